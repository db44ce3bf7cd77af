// The planner's statistics, kept fresh by the service. Postgres plans each
// statement from what ANALYZE last saw; a table never analyzed looks empty,
// and then the session upsert scans every live session of a gateway and the
// keepalive batch every live session (measured: ~7,700 buffers per join at
// 16,000 sessions instead of ~50). Autovacuum analyzes a table once enough
// of it changed, but only on its own round (a minute by default) and not at
// all when it is switched off or the database is the embedded one — exactly
// when a fresh deployment meets its first lesson start. So every
// `statisticsInterval` one process (a cluster singleton) analyzes each of
// the service's tables by autovacuum's own rule (more rows changed since the
// last analyze than autovacuum_analyze_threshold + scale factor × its rows).
import { Context, Duration, Effect, Layer } from "effect"
import { Singleton } from "effect/cluster"
import { SqlClient } from "effect/sql"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import { DatabaseInfo } from "./database.ts"
import { unavailable } from "./queryFailures.ts"
import { repeatedSweep } from "./databaseOutage.ts"

export const statisticsInterval = Duration.seconds(10)

export class PlannerStatistics extends Context.Service<PlannerStatistics, {
  /** Analyzes the service's tables that changed enough since they were last analyzed; answers those it analyzed. */
  readonly refreshStale: Effect.Effect<ReadonlyArray<string>, DatabaseUnavailable>
}>()("room-orchestrator/PlannerStatistics") {
  static readonly layer = Layer.effect(PlannerStatistics, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { mode } = yield* DatabaseInfo

    const stale = Effect.gen(function*() {
      // The embedded database's one connection publishes its counts only when asked (real
      // Postgres connections publish theirs within seconds by themselves).
      if (mode === "embedded") yield* sql`SELECT pg_stat_force_next_flush()`
      const rows = yield* sql<{ name: string }>`
        SELECT s.relname AS name
        FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
        WHERE s.schemaname = current_schema()
          AND s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
            + current_setting('autovacuum_analyze_scale_factor')::float8 * GREATEST(c.reltuples, 0)
        ORDER BY s.relname`
      return rows.map((r) => r.name)
    })

    // Each table on its own: one another ANALYZE (autovacuum's) holds past
    // the lock timeout is left for the next round, the others are done.
    const analyze = (table: string) =>
      sql.withTransaction(Effect.gen(function*() {
        yield* sql`SET LOCAL lock_timeout = '1s'`
        yield* sql`ANALYZE ${sql(table)}`
      })).pipe(Effect.as([table]), Effect.catch(() => Effect.succeed([])))

    const refreshStale = Effect.gen(function*() {
      const tables = yield* stale.pipe(unavailable("PlannerStatistics.refreshStale"))
      return (yield* Effect.forEach(tables, analyze)).flat()
    })

    return { refreshStale }
  }))
}

export const refreshStatistics = Effect.gen(function*() {
  const analyzed = yield* (yield* PlannerStatistics).refreshStale
  if (analyzed.length > 0) yield* Effect.logDebug("Planner statistics refreshed").pipe(Effect.annotateLogs({ tables: analyzed.join(", ") }))
  return analyzed
})

// A round is never cut short: an interrupted ANALYZE would make the driver
// cancel it over a second connection, which the embedded database (one
// client at a time) refuses by closing the connection it has. A stop waits
// for the round (at most a lock_timeout and the ANALYZE itself).
export const StatisticsKeeper = Singleton.make(
  "room-orchestrator/StatisticsKeeper",
  Effect.andThen(
    Effect.sleep(statisticsInterval),
    repeatedSweep("Planner statistics", Effect.uninterruptible(refreshStatistics), statisticsInterval)
  )
)
