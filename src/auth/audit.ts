// The audit trail: one log line per admin change, naming who made it (the
// token's subject, `service`, or `anonymous` with authentication off), what
// they did and to what. Secrets never appear: only whether they changed.
import { Effect } from "effect"
import { CurrentPrincipal, subjectOf } from "./principal.ts"

const secretFields = new Set(["events_password"])

/** The changed fields as one JSON value, with secrets shown as `(set)` or `(removed)`. */
const describeChanges = (changes: Readonly<Record<string, unknown>>) =>
  JSON.stringify(Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined).map(([k, v]) =>
    secretFields.has(k) ? [k, v === null ? "(removed)" : "(set)"] : [k, v]
  )))

export const auditChange = (action: string, target: Readonly<Record<string, string | number>>, changes?: Readonly<Record<string, unknown>>) =>
  Effect.gen(function*() {
    const principal = yield* CurrentPrincipal
    yield* Effect.logInfo("Admin change").pipe(Effect.annotateLogs({
      subject: subjectOf(principal),
      action,
      ...target,
      ...(changes !== undefined ? { changes: describeChanges(changes) } : {})
    }))
  })
