// The planner's statistics kept by the service: a table that grew since it
// was last analyzed is analyzed (whether autovacuum runs or not), so the
// planner sees its real size; a table that did not change is left alone.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Schedule } from "effect"
import { PlannerStatistics } from "../../src/db/statistics.ts"
import { freshDatabase } from "../support/database.ts"
import { databaseLayerFor, prepared, query } from "../support/rooms.ts"

const sizeSeen = (table: string) =>
  query<{ rows: number }>(`SELECT reltuples::int AS rows FROM pg_class WHERE relname = $1 AND relkind = 'r'`, table).pipe(
    Effect.map((r) => r[0]!.rows)
  )

/** The plan of the keepalive batch's row locks (src/db/sessionStore.ts, refresh) for ten sessions. */
const batchLockPlan = query<Record<string, string>>(
  `EXPLAIN SELECT id FROM sessions
   WHERE id = ANY((SELECT array_agg(x) FROM generate_series(1, 10) x)::bigint[]) AND removed_at IS NULL
   ORDER BY id FOR UPDATE`
).pipe(Effect.map((rows) => rows.map((r) => Object.values(r)[0]).join("\n")))

describe("planner statistics", () => {
  it.live("a table that grew is analyzed once, then left alone until it changes again", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      yield* Effect.gen(function*() {
        // autovacuum must not do it in our place
        for (const table of ["sessions", "users"]) yield* query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`)
        // 2,000 live sessions on one gateway, as a lesson start leaves them
        yield* query(`INSERT INTO users (account_id) SELECT 'student-' || i FROM generate_series(1, 2000) i`)
        yield* query(
          `INSERT INTO sessions (user_id, room_id, gateway_id, gateway_session, gateway_feed, display)
           SELECT u.id, (SELECT id FROM rooms WHERE room = '2171'), (SELECT id FROM gateways WHERE name = 'gxy1'), u.id, 'feed-' || u.id, 'Student'
           FROM users u`
        )
        assert.strictEqual(yield* sizeSeen("sessions"), -1, "never analyzed: the planner guesses")

        const statistics = yield* PlannerStatistics
        // other connections publish their counts within seconds: wait for it (a generous ceiling)
        const refreshed = (expected: ReadonlyArray<string>) =>
          statistics.refreshStale.pipe(
            Effect.flatMap((tables) => expected.every((t) => tables.includes(t)) ? Effect.succeed(tables) : Effect.fail(tables)),
            Effect.retry({ schedule: Schedule.spaced(Duration.millis(250)), times: 80 }),
            Effect.catch((tables) => Effect.succeed(tables))
          )
        assert.includeMembers([...yield* refreshed(["sessions", "users"])], ["sessions", "users"])
        assert.strictEqual(yield* sizeSeen("sessions"), 2000)
        assert.strictEqual(yield* sizeSeen("users"), 2000)
        // (unanalyzed, Postgres 15 reads every live session through the feed index instead)
        assert.include(yield* batchLockPlan, "Index Scan using sessions_pkey", "ten sessions are found by their ids")

        assert.deepStrictEqual(yield* statistics.refreshStale, [], "nothing changed since")

        // more rows changed than autovacuum's threshold (50 + a tenth of 2,000): analyzed again
        yield* query(`UPDATE sessions SET display = 'Student again' WHERE id % 5 = 0`)
        assert.deepStrictEqual(yield* refreshed(["sessions"]), ["sessions"])
      }).pipe(Effect.provide(PlannerStatistics.layer.pipe(Layer.provideMerge(prepared(databaseLayerFor(db))))))
    }).pipe(Effect.scoped), 60_000)
})
