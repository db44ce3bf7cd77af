// A connection's session lives as long as the connection: kept alive past
// DEAD_SESSION_PERIOD while it is open, closed when the service stops, and
// swept like a dead keepalive when the process holding it dies (SIGKILL).
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { ask, connect, eventually, nextEvent } from "../support/channel.ts"
import { backend, envFor, freshDatabase } from "../support/database.ts"
import { freePort, startService, waitForHttp } from "../support/process.ts"
import { databaseLayerFor, prepared } from "../support/rooms.ts"
import { client, type Reply, runService, serviceOnFreshDatabase } from "../support/service.ts"
import { sharedDatabase } from "../support/sharedDatabase.ts"

const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

const fastSweep = { DEAD_SESSION_PERIOD: "1s", CLEAN_SESSIONS_INTERVAL: "200ms" }

describe(`real-time sessions' lifetime (${backend})`, () => {
  it.live("an open connection's session outlives DEAD_SESSION_PERIOD: the cleaner spares it", () =>
    Effect.gen(function*() {
      const { base, sql } = yield* serviceOnFreshDatabase({ SCALE: "true", ...fastSweep })
      const socket = yield* connect(base)
      const joined = yield* ask(socket, "joinRoom", { roomId: "2171", token: "demo-token", userId: "stayer" })
      yield* Effect.sleep(Duration.millis(3_000))
      const [row] = yield* sql<{ removed: boolean; refreshed: boolean }>(
        `SELECT removed_at IS NOT NULL AS removed, updated_at > created_at + interval '1 second' AS refreshed FROM sessions WHERE id = $1`,
        Number(joined.user.id)
      )
      assert.deepStrictEqual(row, { removed: false, refreshed: true })
      // and it still works
      assert.deepInclude((yield* ask(socket, "updateUser", { isMicActive: true })).user, { isMicActive: true })
    }).pipe(Effect.scoped))

  it.live("a session closed behind the connection's back (swept meanwhile) is announced as left", () =>
    Effect.gen(function*() {
      const { base, sql } = yield* serviceOnFreshDatabase({ SCALE: "true", ...fastSweep })
      const alice = yield* connect(base)
      const bob = yield* connect(base)
      yield* ask(alice, "joinRoom", { roomId: "2171", token: "demo-token", userId: "alice" })
      const bobJoined = yield* ask(bob, "joinRoom", { roomId: "2171", token: "demo-token", userId: "bob" })
      const aliceHears = yield* nextEvent(alice, "userLeft")
      const bobHears = yield* nextEvent(bob, "userLeft")
      yield* sql(`UPDATE sessions SET removed_at = now() WHERE id = $1`, Number(bobJoined.user.id))
      assert.strictEqual((yield* aliceHears).user.id, bobJoined.user.id)
      assert.strictEqual((yield* bobHears).user.id, bobJoined.user.id, "bob learns he is out too")
      assert.match((yield* ask(bob, "updateUser", { isMicActive: true })).error, /^not in a room/)
    }).pipe(Effect.scoped))

  it.live("stopping the service closes its connections' sessions and drains their rooms", () =>
    Effect.gen(function*() {
      const { layer, sql } = yield* sharedDatabase()
      yield* Effect.scoped(Effect.gen(function*() {
        const base = yield* runService(layer, { SCALE: "true", DRAIN_GRACE: "1m" })
        const socket = yield* connect(base)
        yield* ask(socket, "joinRoom", { roomId: "2171", token: "demo-token", userId: "leaver" })
        assert.lengthOf(yield* sql(`SELECT 1 FROM sessions WHERE removed_at IS NULL`), 1)
      }))
      assert.lengthOf(yield* sql(`SELECT 1 FROM sessions WHERE removed_at IS NULL`), 0)
      const [last] = yield* sql<{ event: string; to_state: string }>(
        `SELECT t.event, t.to_state FROM room_transitions t JOIN rooms r ON r.id = t.room_id WHERE r.room = '2171' ORDER BY t.seq DESC LIMIT 1`
      )
      assert.deepStrictEqual(last, { event: "SESSION.LEFT", to_state: "draining" })
    }).pipe(Effect.scoped))

  it.live("a process killed with its connections open: their sessions are swept like dead keepalives", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      yield* Layer.build(prepared(databaseLayerFor(db))).pipe(Effect.scoped)
      const port = yield* Effect.promise(freePort)
      const env = { ...envFor(db), LISTEN_ADDRESS: `127.0.0.1:${port}`, SCALE: "true", DRAIN_GRACE: "1m", LOG_LEVEL: "warn", ...fastSweep }
      const child = startService(env)
      yield* Effect.addFinalizer(() => Effect.sync(() => child.child.kill("SIGKILL")))
      const base = `http://127.0.0.1:${port}`
      yield* Effect.promise(() => waitForHttp(`${base}/health`, 30_000, child))
      const socket = yield* connect(base)
      const joined = yield* ask(socket, "joinRoom", { roomId: "2171", token: "demo-token", userId: "orphan" })
      assert.notProperty(joined, "error", child.output())
      child.child.kill("SIGKILL")
      assert.strictEqual(yield* Effect.promise(() => child.exited), "SIGKILL")

      // the same deployment, started again: nothing keeps the orphan's session alive
      const { layer, sql } = yield* sharedDatabase(db)
      const api = client(yield* runService(layer, { SCALE: "true", DRAIN_GRACE: "1m", ...fastSweep }))
      yield* eventually(Effect.flatMap(sql<{ removed: boolean }>(`SELECT removed_at IS NOT NULL AS removed FROM sessions WHERE id = $1`, Number(joined.user.id)), (
        [row]
      ) => (row?.removed ? Effect.void : Effect.fail("the orphan's session is live"))))
      yield* eventually(Effect.flatMap(api.get("/admin/rooms/2171/machine"), (r) =>
        r.body.state === "draining" ? Effect.void : Effect.fail(r.body.state)))
      assert.deepInclude(expectStatus(yield* api.get("/admin/rooms/2171/machine"), 200), { sessions: 0, gateway: joined.janus })
    }).pipe(Effect.scoped), 90_000)
})
