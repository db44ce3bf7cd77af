// Keepalives of sessions already live, written together: while `writers`
// batches are being written the next keepalives queue, and go out as one
// statement when a writer is free (at most `maxBatch` at a time). One
// keepalive alone is written at once; under load, one statement and one
// commit carry many. Each caller waits for its own batch to commit, so an
// answered keepalive is stored.
import { Deferred, Effect, Exit, Scope } from "effect"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import type { SessionInput, SessionStore } from "../db/sessionStore.ts"

const maxBatch = 500
const writers = 2

interface Pending {
  readonly session: number
  readonly input: SessionInput
  readonly done: Deferred.Deferred<boolean, DatabaseUnavailable>
}

/** Writes a keepalive in the next batch; answers false when the session was closed meanwhile. */
export const makeKeepaliveBatch = (store: SessionStore["Service"]) =>
  Effect.gen(function*() {
    const scope = yield* Scope.Scope
    let pending: Array<Pending> = []
    let writing = 0

    const settle = (batch: ReadonlyArray<Pending>, exit: Exit.Exit<ReadonlySet<number>, DatabaseUnavailable>) =>
      Effect.forEach(batch, (p) => Deferred.done(p.done, Exit.map(exit, (live) => live.has(p.session))), { discard: true })

    const drain: Effect.Effect<void> = Effect.gen(function*() {
      while (pending.length > 0) {
        const batch = pending.slice(0, maxBatch)
        pending = pending.slice(maxBatch)
        // the last keepalive of a session in the batch is the one written
        const latest = new Map(batch.map((p) => [p.session, p.input]))
        const exit = yield* Effect.exit(store.refresh([...latest].map(([session, input]) => ({ session, input }))))
        yield* settle(batch, exit)
      }
    }).pipe(Effect.ensuring(Effect.sync(() => writing--)))

    return (session: number, input: SessionInput): Effect.Effect<boolean, DatabaseUnavailable> =>
      Effect.gen(function*() {
        const done = yield* Deferred.make<boolean, DatabaseUnavailable>()
        pending.push({ session, input, done })
        if (writing < writers) {
          writing++
          yield* Effect.forkIn(drain, scope)
        }
        return yield* Deferred.await(done)
      })
  })
