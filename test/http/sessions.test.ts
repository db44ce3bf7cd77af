// Sessions over HTTP: keepalives, Janus events, the drain grace and the
// dead-session cleaner, against the real database.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber } from "effect"
import { backend } from "../support/database.ts"
import { collectLogs, eventually, expectStatus, type Reply, serviceOnFreshDatabase } from "../support/service.ts"

const leaving = (feed: number | string, gateway: string, event = "leaving") => ({
  emitter: gateway,
  type: 64,
  timestamp: 1,
  session_id: 1,
  handle_id: 2,
  event: { plugin: "janus.plugin.videoroom", data: { event, room: 2171, id: String(feed) } }
})

const user = (over: Record<string, unknown> = {}) => ({
  room: 2171, janus: "gxy1", display: "Alice", email: "a@example.org", session: 11, handle: 21, rfid: 31,
  camera: true, question: false, self_test: false, sound_test: false, group: "g", ip: "10.0.0.1", system: "linux",
  username: "alice", extra: { lang: "he" }, timestamp: 1700000000000, ...over
})

const machine = (api: { get: (p: string) => Effect.Effect<Reply> }, room = 2171) =>
  Effect.map(api.get(`/admin/rooms/${room}/machine`), (r) => r.body)

const waitForState = (api: { get: (p: string) => Effect.Effect<Reply> }, state: string, room = 2171) =>
  eventually(Effect.flatMap(machine(api, room), (m) => (m.state === state ? Effect.succeed(m) : Effect.fail(m.state))))

/** The service with its cleaner sweeping every `interval` and closing sessions silent for `deadAfter`; its log lines kept. */
const serviceWithCleaner = (interval: string, deadAfter: string) =>
  Effect.gen(function*() {
    const logs = collectLogs()
    const service = yield* serviceOnFreshDatabase(
      { SCALE: "true", CLEAN_SESSIONS_INTERVAL: interval, DEAD_SESSION_PERIOD: deadAfter, DRAIN_GRACE: "1m" },
      logs.logger
    )
    return { ...service, logs }
  })

describe(`PUT /users/:id (${backend})`, () => {
  it.live("creates the user, upserts one session per (user, gateway, gateway session), and shows it in /rooms", () =>
    Effect.gen(function*() {
      const { api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      assert.deepStrictEqual(expectStatus(yield* api.put("/users/alice-1", user()), 200), { result: "success" })
      assert.deepStrictEqual(expectStatus(yield* api.put("/users/alice-1", user({ question: true, camera: false })), 200), { result: "success" })
      const rows = yield* sql<{ n: number }>("SELECT count(*)::int AS n FROM sessions WHERE removed_at IS NULL")
      assert.strictEqual(rows[0]!.n, 1, "a keepalive is not a second session")
      const room = expectStatus(yield* api.get("/room/2171"), 200)
      assert.deepInclude(room, { room: 2171, janus: "gxy1", num_users: 1, questions: true })
      assert.deepInclude(room.users[0], { id: "alice-1", display: "Alice", email: "a@example.org", janus: "gxy1", camera: false, question: true })
      // a session for a room nobody assigned adopts the gateway it is on
      assert.deepInclude(yield* machine(api), { state: "assigned", gateway: "gxy1", sessions: 1 })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200), { janus: "gxy1" })
    }).pipe(Effect.scoped))

  it.live("keepalives of live sessions, written together in batches, store every field as the first keepalive did; a session closed meanwhile joins again", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "1m" })
      const users = Array.from({ length: 40 }, (_, i) => i)
      const first = (i: number) => user({ display: `User ${i}`, session: 100 + i, handle: 200 + i, rfid: `f${i}` })
      for (const i of users) expectStatus(yield* api.put(`/users/u${i}`, first(i)), 200)
      // every user at once, twice: the later keepalives change every field a listing shows
      const changed = (i: number, round: number) =>
        user({
          display: `User ${i} r${round}`, email: `u${i}@example.org`, username: `user${i}`, session: 100 + i, handle: 300 + i, rfid: `f${i}`,
          camera: round === 2, question: round === 2, self_test: true, sound_test: true, group: `g${round}`, ip: `10.0.${round}.${i}`,
          system: "mac", extra: { round }, timestamp: 1700000000000 + round
        })
      for (const round of [1, 2]) {
        const replies = yield* Effect.forEach(users, (i) => api.put(`/users/u${i}`, changed(i, round)), { concurrency: "unbounded" })
        for (const r of replies) expectStatus(r, 200)
      }
      const room = expectStatus(yield* api.get("/room/2171"), 200)
      assert.strictEqual(room.num_users, 40, "no keepalive became a second session")
      const shown = new Map(room.users.map((u: { id: string }) => [u.id, u]))
      for (const i of users) {
        assert.deepInclude(shown.get(`u${i}`), {
          display: `User ${i} r2`, email: `u${i}@example.org`, username: `user${i}`, handle: 300 + i, camera: true, question: true,
          self_test: true, sound_test: true, group: "g2", ip: `10.0.2.${i}`, extra: { round: 2 }, timestamp: 1700000000002
        })
      }
      assert.deepInclude(yield* machine(api), { state: "assigned", sessions: 40 })
      // u0's feed leaves; its next keepalive is a new session the room counts again
      expectStatus(yield* api.post("/event", leaving("f0", "gxy1")), 200)
      assert.deepInclude(yield* machine(api), { sessions: 39 })
      expectStatus(yield* api.put("/users/u0", changed(0, 3)), 200)
      assert.deepInclude(yield* machine(api), { state: "assigned", sessions: 40 })
      assert.strictEqual(expectStatus(yield* api.get("/room/2171"), 200).num_users, 40)
    }).pipe(Effect.scoped))

  it.live("a user who moves to another room leaves the first one", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "1m" })
      expectStatus(yield* api.put("/users/mover", user({ room: 2171 })), 200)
      expectStatus(yield* api.put("/users/mover", user({ room: 2172 })), 200)
      assert.deepInclude(yield* machine(api, 2171), { state: "draining", sessions: 0 })
      assert.deepInclude(yield* machine(api, 2172), { state: "assigned", sessions: 1 })
    }).pipe(Effect.scoped))

  it.live("unknown room or gateway and malformed bodies are 400 and write nothing", () =>
    Effect.gen(function*() {
      const { api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const cases: ReadonlyArray<readonly [unknown, RegExp]> = [
        [user({ room: 9999 }), /^protocol error: unknown room 9999$/],
        [user({ room: "no-such-room" }), /^protocol error: unknown room no-such-room$/],
        [user({ janus: "gxy99" }), /^protocol error: unknown gateway gxy99$/],
        [user({ rfid: "" }), /^protocol error: rfid is empty$/],
        [user({ rfid: undefined }), /^protocol error: rfid is empty$/],
        [{ janus: "gxy1" }, /room: is required/],
        [user({ session: -1 }), /session: must be a non-negative integer id/],
        [user({ room: "x y" }), /room: must be a positive integer or a string id/],
        [user({ room: 0 }), /room: must be a positive integer or a string id/],
        ["{oops", /not valid JSON/]
      ]
      for (const [body, message] of cases) {
        assert.match(expectStatus(yield* api.put("/users/u1", body), 400).error, message)
      }
      assert.match(expectStatus(yield* api.put(`/users/${"x".repeat(300)}`, user()), 400).error, /id/)
      assert.deepStrictEqual(yield* sql("SELECT * FROM sessions"), [])
      assert.deepStrictEqual(yield* sql("SELECT * FROM users"), [])
    }).pipe(Effect.scoped))
})

describe(`POST /event and the drain grace (${backend})`, () => {
  it.live("leaving closes the session; the room drains, then is idle and its assignment gone", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const { api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "500ms" }, logs.logger)
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      expectStatus(yield* api.put("/users/u1", user({ janus, rfid: 501 })), 200)
      assert.deepStrictEqual(expectStatus(yield* api.post("/event", leaving(501, janus)), 200), { result: "success" })
      assert.deepInclude(yield* machine(api), { state: "draining", gateway: janus, sessions: 0 })
      assert.deepStrictEqual(expectStatus(yield* api.get("/rooms"), 200), [])
      yield* waitForState(api, "idle")
      assert.deepStrictEqual(yield* sql("SELECT * FROM room_server_assignments"), [])
      assert.isDefined(logs.lines.find((l) => l.includes("Cleaned up room assignment") && l.includes("room_id=2171")))
    }).pipe(Effect.scoped))

  it.live("kicked and unpublished close sessions too; other events are accepted and ignored", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "1m" })
      expectStatus(yield* api.put("/users/a", user({ session: 1, rfid: 601 })), 200)
      expectStatus(yield* api.put("/users/b", user({ session: 2, rfid: 602 })), 200)
      expectStatus(yield* api.put("/users/c", user({ session: 3, rfid: 603 })), 200)
      expectStatus(yield* api.post("/event", [
        { type: 1, emitter: "gxy1", event: { name: "created" } },
        leaving(601, "gxy1", "joined"),
        leaving(601, "gxy1", "kicked")
      ]), 200)
      assert.strictEqual((yield* machine(api)).sessions, 2)
      expectStatus(yield* api.post("/event", leaving(602, "gxy1", "unpublished")), 200)
      assert.strictEqual((yield* machine(api)).sessions, 1)
      // the same feed on another gateway is another session
      expectStatus(yield* api.post("/event", leaving(603, "gxy2")), 200)
      assert.strictEqual((yield* machine(api)).sessions, 1)
    }).pipe(Effect.scoped))

  it.live("a reconnect within the grace (leaving of the old handle, then a new session) keeps the gateway", () =>
    Effect.gen(function*() {
      const { api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "1500ms" })
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      expectStatus(yield* api.put("/users/u1", user({ janus, session: 100, rfid: 700 })), 200)
      expectStatus(yield* api.post("/event", leaving(700, janus)), 200)
      assert.strictEqual((yield* machine(api)).state, "draining")
      // the reconnecting client asks again and gets the same gateway
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200), { janus })
      expectStatus(yield* api.put("/users/u1", user({ janus, session: 101, rfid: 701 })), 200)
      yield* Effect.sleep(Duration.millis(1_800))
      assert.deepInclude(yield* machine(api), { state: "assigned", gateway: janus, sessions: 1 })
      const rows = yield* sql<{ gateway_name: string }>("SELECT gateway_name FROM room_server_assignments")
      assert.deepStrictEqual(rows, [{ gateway_name: janus }])
    }).pipe(Effect.scoped))

  it.live("malformed events are 400 and harmless", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      expectStatus(yield* api.put("/users/u1", user({ rfid: 801 })), 200)
      assert.match(expectStatus(yield* api.post("/event", "not json"), 400).error, /not valid JSON/)
      assert.match(expectStatus(yield* api.post("/event", [1, 2]), 400).error, /event|object|Expected/)
      const badId = { ...leaving(801, "gxy1"), event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", id: { feed: 801 } } } }
      assert.match(expectStatus(yield* api.post("/event", badId), 400).error, /event\.data\.id: must be a feed id/)
      // a batch with one unreadable feed id is refused whole
      assert.strictEqual((yield* api.post("/event", [leaving(801, "gxy1"), badId])).status, 400)
      assert.strictEqual((yield* machine(api)).sessions, 1)
    }).pipe(Effect.scoped))
})

describe(`the dead-session cleaner (${backend})`, () => {
  it.live("closes sessions whose keepalives stopped, never one whose keepalive arrives during the sweep", () =>
    Effect.gen(function*() {
      const { api, sql, logs } = yield* serviceWithCleaner("100ms", "1s")
      const ids = Array.from({ length: 20 }, (_, i) => i)
      yield* Effect.forEach(ids, (i) => api.put(`/users/k${i}`, user({ session: 1000 + i, rfid: 2000 + i })), { concurrency: 10 })
      // Even users keep sending keepalives while the cleaner sweeps every 100 ms; odd users go silent.
      let sending = true
      const keepalives = yield* Effect.forEach(ids.filter((i) => i % 2 === 0), (i) =>
        api.put(`/users/k${i}`, user({ session: 1000 + i, rfid: 2000 + i })).pipe(
          Effect.andThen(Effect.sleep(Duration.millis(150))),
          Effect.repeat({ while: () => sending })
        ), { concurrency: "unbounded", discard: true }).pipe(Effect.forkScoped)
      // the odd ones are swept (dead after 1 s); the even ones stay however long the test takes
      yield* eventually(Effect.flatMap(machine(api), (m) => (m.sessions === 10 ? Effect.void : Effect.fail(m.sessions))), 100)
      yield* Effect.sleep(Duration.millis(1_500))
      const live = yield* sql<{ account_id: string }>(
        `SELECT u.account_id FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.removed_at IS NULL ORDER BY u.account_id`)
      const evens = ids.filter((i) => i % 2 === 0).map((i) => `k${i}`).sort()
      assert.deepStrictEqual(live.map((r) => r.account_id).sort(), evens, "no session with keepalives was swept")
      // the room counts exactly the live sessions
      assert.strictEqual((yield* machine(api)).sessions, 10)
      sending = false
      yield* Fiber.join(keepalives)
      assert.isDefined(logs.lines.find((l) => l.includes("Cleaned dead sessions")))
      assert.isDefined(logs.lines.find((l) => l.includes("Cleaned inactive room server assignments") && l.includes("cleaned_assignments=")))
    }).pipe(Effect.scoped))
})

describe(`the cleaner's recount (${backend})`, () => {
  it.live("a room that never heard of a leave (or a join) is repaired from the sessions table", () =>
    Effect.gen(function*() {
      const { api, sql, logs } = yield* serviceWithCleaner("300ms", "1h")
      expectStatus(yield* api.put("/users/a", user({ session: 1, rfid: "a-1" })), 200)
      expectStatus(yield* api.put("/users/b", user({ session: 2, rfid: "b-1" })), 200)
      assert.strictEqual((yield* machine(api)).sessions, 2)
      // both sessions end without the room being told (a lost message, a crashed process)
      yield* sql("UPDATE sessions SET removed_at = now()")
      const repaired = yield* waitForState(api, "draining")
      assert.strictEqual(repaired.sessions, 0)
      assert.deepInclude(repaired.history.at(-1), { from: "assigned", event: "SESSIONS.SYNCED", to: "draining", sessions: 0 })
      assert.isDefined(logs.lines.find((l) => l.includes("Recounted room sessions") && l.includes("rooms=1")))
      // and a session the room never heard of is counted too
      yield* sql(`INSERT INTO sessions (user_id, room_id, gateway_id, gateway_session, gateway_feed)
        SELECT u.id, r.id, g.id, 3, 'c-1' FROM users u, rooms r, gateways g WHERE u.account_id = 'a' AND r.room = '2171' AND g.name = 'gxy1'`)
      const back = yield* waitForState(api, "assigned")
      assert.strictEqual(back.sessions, 1)
    }).pipe(Effect.scoped))
})
