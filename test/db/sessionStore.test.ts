// The cleaner's conditional update against a keepalive in flight, with two
// real connections: the keepalive always wins.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { postgresLayer } from "../../src/db/database.ts"
import { SessionStore } from "../../src/db/sessionStore.ts"
import { freshPostgresUrl, realPostgresUrl } from "../support/database.ts"
import { prepared, query } from "../support/rooms.ts"

const keepaliveInput = {
  userId: "racer", room: "2171", gateway: "gxy1", gatewaySession: 1, gatewayHandle: null, gatewayFeed: "9",
  gatewayTextroomHandle: null, display: null, email: null, username: null, camera: false, mic: false, screen: false,
  question: false, selfTest: false, soundTest: false, country: null, userAgent: null, ip: null, extra: null,
  groupName: null, role: null, clientName: null, clientTimestamp: null
}

describe("keepalive versus cleaner", () => {
  it.live.skipIf(realPostgresUrl === undefined)("a keepalive committed while the sweep waits for its row keeps the session", () =>
    Effect.gen(function*() {
      const url = yield* freshPostgresUrl(realPostgresUrl!)
      yield* Layer.build(prepared(postgresLayer(url))).pipe(Effect.scoped)
      const keepaliveSide = SessionStore.layer.pipe(Layer.provideMerge(postgresLayer(url, 2)))
      const cleanerSide = SessionStore.layer.pipe(Layer.provideMerge(postgresLayer(url, 2)))

      // A session whose last keepalive is ten minutes old.
      yield* Effect.gen(function*() {
        const store = yield* SessionStore
        assert.strictEqual((yield* store.upsert(keepaliveInput))._tag, "Joined")
        yield* query(`UPDATE sessions SET updated_at = now() - interval '10 minutes'`)
      }).pipe(Effect.provide(keepaliveSide))

      // Its keepalive takes the row and holds its transaction open...
      const release = yield* Deferred.make<void>()
      const holding = yield* Deferred.make<void>()
      const keepalive = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`UPDATE sessions SET updated_at = now() WHERE removed_at IS NULL`
          yield* Deferred.succeed(holding, undefined)
          yield* Deferred.await(release)
        }))
      }).pipe(Effect.provide(keepaliveSide), Effect.forkChild)
      yield* Deferred.await(holding)
      // ...while the sweep, on another connection, wants the same row.
      const sweep = yield* Effect.gen(function*() {
        const store = yield* SessionStore
        return yield* store.closeDead(new Date(Date.now() - 60_000))
      }).pipe(Effect.provide(cleanerSide), Effect.forkChild)
      yield* Effect.sleep(Duration.millis(300))
      assert.isUndefined(sweep.pollUnsafe(), "the sweep waits for the keepalive's row")
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(keepalive)
      const outcome = yield* Fiber.join(sweep)
      assert.deepStrictEqual(outcome, [], "the sweep closed nothing")
      const live = yield* query<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE removed_at IS NULL`).pipe(
        Effect.provide(postgresLayer(url, 1))
      )
      assert.strictEqual(live[0]!.n, 1)
    }).pipe(Effect.scoped))
})
