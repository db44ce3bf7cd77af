// A database outage as operators see it: one log line per second at most,
// naming what failed and why, never a stack trace per request.
import { Clock, Context, Effect, Layer } from "effect"
import type { DatabaseUnavailable } from "../domain/errors.ts"

/** Lines about one outage are at most this far apart. */
const quiet = 1_000

export class Outage extends Context.Service<Outage, {
  /** Logs the failure unless another was logged less than a second ago. */
  readonly report: (e: DatabaseUnavailable) => Effect.Effect<void>
}>()("room-orchestrator/Outage") {
  static readonly layer = Layer.sync(Outage, () => {
    let last = Number.NEGATIVE_INFINITY
    let suppressed = 0
    return {
      report: (e) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          if (now - last < quiet) return Effect.sync(() => void suppressed++)
          const fields = { operation: e.operation, reason: e.reason, suppressed }
          last = now
          suppressed = 0
          return Effect.logWarning("Database unavailable").pipe(Effect.annotateLogs(fields))
        })
    }
  })
}
