// Keepalives of sessions already live, written together: the keepalives of
// a short window (KEEPALIVE_BATCH_WINDOW, a few ms) go out as one statement,
// and while `writers` batches are being written the next ones queue and go
// out when a writer is free (at most `maxBatch` at a time). Under load, one
// statement and one commit carry hundreds. Each caller waits for its own
// batch to commit, so an answered keepalive is stored.
import { Deferred, Duration, Effect, Exit, Scope } from "effect"
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
export const makeKeepaliveBatch = (store: SessionStore["Service"], window: number) =>
  Effect.gen(function*() {
    const scope = yield* Scope.Scope
    let pending: Array<Pending> = []
    let writing = 0
    let gathering = false

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

    const write = Effect.suspend(() => {
      if (writing >= writers || pending.length === 0) return Effect.void
      writing++
      return Effect.asVoid(Effect.forkIn(drain, scope))
    })

    // The first keepalive of a window waits for the others of it; a full batch goes at once.
    const gather = Effect.suspend(() => {
      if (pending.length >= maxBatch) return write
      if (gathering) return Effect.void
      gathering = true
      return Effect.asVoid(Effect.forkIn(
        Effect.sleep(Duration.millis(window)).pipe(Effect.ensuring(Effect.sync(() => (gathering = false))), Effect.andThen(write)),
        scope
      ))
    })

    return (session: number, input: SessionInput): Effect.Effect<boolean, DatabaseUnavailable> =>
      Effect.gen(function*() {
        const done = yield* Deferred.make<boolean, DatabaseUnavailable>()
        pending.push({ session, input, done })
        yield* window > 0 ? gather : write
        return yield* Deferred.await(done)
      })
  })
