// Several processes: with REALTIME_ADAPTER=postgres, broadcasts reach the
// sockets of every service instance on the database (LISTEN/NOTIFY). Two
// instances run in this test process on one real Postgres database; the
// embedded database serves one process only, so this needs DATABASE_URL.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { decodeSettings } from "../../src/config.ts"
import { ask, collect, connect, eventually, nextEvent } from "../support/channel.ts"
import { backend } from "../support/database.ts"
import { runService } from "../support/service.ts"
import { sharedDatabase } from "../support/sharedDatabase.ts"

describe(`real-time broadcasts between processes (${backend})`, () => {
  it("REALTIME_ADAPTER=postgres needs DATABASE_URL", () => {
    const refused = decodeSettings({ REALTIME_ADAPTER: "postgres" })
    assert.isTrue(Result.isFailure(refused))
    if (Result.isFailure(refused)) {
      assert.strictEqual(refused.failure.message, `Invalid REALTIME_ADAPTER="postgres": it needs DATABASE_URL (the embedded database serves one process)`)
    }
    const unknown = decodeSettings({ REALTIME_ADAPTER: "redis" })
    assert.isTrue(Result.isFailure(unknown) && unknown.failure.message.startsWith(`Invalid REALTIME_ADAPTER="redis": unknown value`))
    const memory = decodeSettings({})
    assert.isTrue(Result.isSuccess(memory) && memory.success.realtimeAdapter === "memory")
  })

  it.live.skipIf(backend === "embedded")("joins, updates and leaves on one instance reach the sockets of the other", () =>
    Effect.gen(function*() {
      const { db, layer, sql } = yield* sharedDatabase()
      if (!("url" in db)) return
      const env = { DATABASE_URL: db.url, REALTIME_ADAPTER: "postgres" }
      const first = yield* runService(layer, env)
      const second = yield* runService(layer, env)
      // each instance's adapter listens on a connection of its own
      yield* eventually(Effect.flatMap(
        sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`),
        ([row]) => (row!.n === 2 ? Effect.void : Effect.fail(`${row!.n} listening`))
      ))
      const alice = yield* connect(first)
      const bob = yield* connect(second)
      yield* ask(alice, "joinRoom", { roomId: "2171", token: "demo-token", userId: "alice" })
      const aliceHearsJoin = yield* nextEvent(alice, "userJoined")
      const bobJoined = yield* ask(bob, "joinRoom", { roomId: "2171", token: "demo-token", userId: "bob" })
      assert.deepStrictEqual(yield* aliceHearsJoin, { roomId: "2171", user: bobJoined.user })
      assert.deepStrictEqual(bobJoined.users.map((u: any) => u.userId), ["alice", "bob"])

      const bobHearsUpdate = yield* nextEvent(bob, "userUpdated")
      const updated = yield* ask(alice, "updateUser", { isCamActive: true })
      assert.deepStrictEqual(yield* bobHearsUpdate, { roomId: "2171", user: updated.user })
      const aliceEchoes = collect(alice, "userUpdated")

      const aliceHearsLeave = yield* nextEvent(alice, "userLeft")
      bob.disconnect()
      assert.strictEqual((yield* aliceHearsLeave).user.userId, "bob")
      assert.deepStrictEqual(aliceEchoes, [])
      // large payloads travel through socket_io_attachments; nothing is left there for long
      assert.isAtMost((yield* sql<{ n: number }>(`SELECT count(*)::int AS n FROM socket_io_attachments`))[0]!.n, 10)
    }).pipe(Effect.scoped), 60_000)
})
