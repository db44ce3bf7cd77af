// A database outage as operators and clients see it: one log line per
// second at most, naming what failed and why, never a stack trace per
// request; and whether the database answers right now, so that a caller
// kept waiting on something that needs it (a room whose host lost its shard
// lock while the database was away) is answered 503 at once instead.
import { Clock, Context, Duration, Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import type { DatabaseUnavailable } from "../domain/errors.ts"

/** Lines about one outage are at most this far apart. */
const quiet = 1_000

/** How long one answer to "does the database answer?" is reused. */
const reachableFor = Duration.millis(500)
/** How long that question waits for its answer. */
const probeTimeout = Duration.seconds(1)

export class DatabaseOutage extends Context.Service<DatabaseOutage, {
  /** Logs the failure unless another was logged less than a second ago. */
  readonly report: (e: DatabaseUnavailable) => Effect.Effect<void>
  /** False when a trivial query fails now (asked at most twice a second, whoever asks); one that is slow to answer counts as reachable. */
  readonly reachable: Effect.Effect<boolean>
}>()("room-orchestrator/DatabaseOutage") {
  static readonly layer = Layer.effect(DatabaseOutage, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    let last = Number.NEGATIVE_INFINITY
    let suppressed = 0
    // Only a failed query says the database is away: a query that waits
    // (every connection busy under load, or a network that drops packets)
    // says nothing, and callers go on waiting as they would anyway.
    const reachable = yield* Effect.cachedWithTTL(
      sql`SELECT 1`.pipe(
        Effect.as(true),
        Effect.timeoutOrElse({ duration: probeTimeout, orElse: () => Effect.succeed(true) }),
        Effect.catchCause(() => Effect.succeed(false))
      ),
      reachableFor
    )
    return {
      report: (e) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          if (now - last < quiet) return Effect.sync(() => void suppressed++)
          const fields = { operation: e.operation, reason: e.reason, suppressed }
          last = now
          suppressed = 0
          return Effect.logWarning("Database unavailable").pipe(Effect.annotateLogs(fields))
        }),
      reachable
    }
  }))
}

/**
 * A background sweep: `sweep` once, then again every `interval`, for as long
 * as it runs. A database outage is reported as above and any other failure
 * logged as `<what> failed`; either way the next round comes.
 */
export const repeatedSweep = <A, R>(what: string, sweep: Effect.Effect<A, DatabaseUnavailable, R>, interval: Duration.Input) =>
  Effect.gen(function*() {
    const outage = yield* DatabaseOutage
    return yield* sweep.pipe(
      Effect.catchTag("DatabaseUnavailable", outage.report),
      Effect.catchCause((cause) => Effect.logWarning(`${what} failed`, cause)),
      Effect.repeat(Schedule.spaced(interval)),
      Effect.asVoid
    )
  })
