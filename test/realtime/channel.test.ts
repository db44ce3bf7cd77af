// The real-time channel against the real service and database: rooms created
// over HTTP and joined by code, two clients seeing each other, media state
// broadcast and stored, leaving and disconnecting, the room machine driven
// by the joins and leaves (scale mode) or not at all (legacy mode).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ask, collect, connect, eventually, nextEvent } from "../support/channel.ts"
import { backend } from "../support/database.ts"
import { type Reply, serviceOnFreshDatabase } from "../support/service.ts"

const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

type Sql = <A extends object>(text: string, ...params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<A>>

interface SessionRow {
  id: number
  user_id: string
  gateway: string
  mic: boolean
  camera: boolean
  screen: boolean
  removed: boolean
}

const sessionsOf = (sql: Sql, room: string) =>
  sql<SessionRow>(
    `SELECT s.id::int AS id, u.account_id AS user_id, g.name AS gateway, s.mic, s.camera, s.screen, s.removed_at IS NOT NULL AS removed
     FROM sessions s JOIN rooms r ON r.id = s.room_id JOIN users u ON u.id = s.user_id JOIN gateways g ON g.id = s.gateway_id
     WHERE r.room = $1 ORDER BY s.id`,
    room
  )

const assignmentOf = (sql: Sql, room: string) =>
  sql<{ gateway_name: string }>(`SELECT a.gateway_name FROM room_server_assignments a JOIN rooms r ON r.id = a.room_id WHERE r.room = $1`, room)

describe(`real-time channel (${backend})`, () => {
  it.live("create over HTTP, join by code, two clients see each other, updates are broadcast and stored, a disconnect drains the room", () =>
    Effect.gen(function*() {
      const { base, api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "1s" })
      const created = expectStatus(yield* api.post("/api/rooms/create", { name: "My Meeting" }), 201).room
      assert.match(created.id, /^[a-z0-9]{24}$/)
      assert.match(created.joinCode, /^[A-Z0-9]{6}$/)
      assert.deepInclude(created, { name: "My Meeting", requireAccessBeforeJoining: false })
      const found = expectStatus(yield* api.get(`/api/rooms/join/${created.joinCode.toLowerCase()}`), 200).room
      assert.deepStrictEqual(found, { ...created, users: [] })

      const alice = yield* connect(base)
      const bob = yield* connect(base)
      const aliceJoined = yield* ask(alice, "joinRoom", { roomId: found.id, token: "demo-token", userId: "alice" })
      assert.notProperty(aliceJoined, "error", JSON.stringify(aliceJoined))
      const janus = aliceJoined.janus
      assert.match(janus, /^gxy\d+$/)
      assert.deepInclude(aliceJoined.user, { userId: "alice", roomId: found.id, janus, isMicActive: false, isCamActive: false, isShareScreen: false })
      assert.deepStrictEqual(aliceJoined.room, created)

      const bobSeen = yield* nextEvent(alice, "userJoined")
      const bobJoined = yield* ask(bob, "joinRoom", { roomId: found.id, token: "demo-token", userId: "bob", display: "Bob" })
      assert.strictEqual(bobJoined.janus, janus, "everyone in a room gets its gateway")
      assert.deepStrictEqual(bobJoined.users.map((u: any) => u.userId), ["alice", "bob"])
      assert.deepStrictEqual(bobJoined.users[0], aliceJoined.user)
      const joinedEvent = yield* bobSeen
      assert.deepStrictEqual(joinedEvent, { roomId: found.id, user: bobJoined.user })
      assert.strictEqual(joinedEvent.user.display, "Bob")

      // the room's machine assigned it a gateway and counts both sessions
      assert.deepStrictEqual((yield* assignmentOf(sql, found.id)).map((a) => a.gateway_name), [janus])
      assert.deepInclude(expectStatus(yield* api.get(`/admin/rooms/${found.id}/machine`), 200), { state: "assigned", gateway: janus, sessions: 2 })

      const aliceSees = yield* nextEvent(alice, "userUpdated")
      const bobEchoes = collect(bob, "userUpdated")
      const updated = yield* ask(bob, "updateUser", { isMicActive: true, isShareScreen: true })
      assert.deepInclude(updated.user, { id: bobJoined.user.id, isMicActive: true, isCamActive: false, isShareScreen: true })
      assert.deepStrictEqual(yield* aliceSees, { roomId: found.id, user: updated.user })
      assert.deepStrictEqual(bobEchoes, [], "the sender gets its ack, not the broadcast")
      const rows = yield* sessionsOf(sql, found.id)
      assert.deepStrictEqual(rows.map(({ id: _, ...r }) => r), [
        { user_id: "alice", gateway: janus, mic: false, camera: false, screen: false, removed: false },
        { user_id: "bob", gateway: janus, mic: true, camera: false, screen: true, removed: false }
      ])

      // getUsersInRoom and the HTTP routes answer what the database holds
      const listed = yield* ask(alice, "getUsersInRoom", { roomId: found.id })
      assert.deepStrictEqual(listed.users.map((u: any) => [u.id, u.userId, u.isMicActive, u.isShareScreen]), rows.map((r) => [String(r.id), r.user_id, r.mic, r.screen]))
      const byId = expectStatus(yield* api.get(`/api/rooms/${found.id}`), 200).room
      assert.deepStrictEqual(byId.users, listed.users)

      // bob goes away without a word: alice hears it, his session closes, the room drains
      const bobLeft = yield* nextEvent(alice, "userLeft")
      bob.disconnect()
      const left = yield* bobLeft
      assert.deepStrictEqual({ roomId: left.roomId, id: left.user.id, userId: left.user.userId }, { roomId: found.id, id: bobJoined.user.id, userId: "bob" })
      yield* eventually(Effect.flatMap(sessionsOf(sql, found.id), (r) => (r[1]?.removed ? Effect.void : Effect.fail("bob's session is live"))))
      assert.deepStrictEqual((yield* ask(alice, "getUsersInRoom", { roomId: found.id })).users.map((u: any) => u.userId), ["alice"])

      // alice goes too: the last one out starts the drain; after the grace the assignment goes
      alice.disconnect()
      yield* eventually(Effect.flatMap(api.get(`/admin/rooms/${found.id}/machine`), (r) =>
        r.body.state === "draining" ? Effect.void : Effect.fail(r.body.state)))
      assert.deepInclude(expectStatus(yield* api.get(`/admin/rooms/${found.id}/machine`), 200), { sessions: 0, gateway: janus })
      assert.lengthOf(yield* assignmentOf(sql, found.id), 1, "kept during the grace")
      yield* eventually(Effect.flatMap(assignmentOf(sql, found.id), (a) => (a.length === 0 ? Effect.void : Effect.fail("still assigned"))))
      assert.deepInclude(expectStatus(yield* api.get(`/admin/rooms/${found.id}/machine`), 200), { state: "idle", gateway: null })
      assert.isTrue((yield* sessionsOf(sql, found.id)).every((r) => r.removed))
    }).pipe(Effect.scoped))

  it.live("legacy mode: a room's default gateway, no assignment, no lifecycle; createRoom answers the gateway", () =>
    Effect.gen(function*() {
      const { base, api, sql } = yield* serviceOnFreshDatabase()
      const created = expectStatus(yield* api.post("/api/rooms/create", { name: "Legacy" }), 201).room
      // each demo gateway is the default of one demo room: the first usable one in AVAILABLE_JANUS_SERVERS order
      assert.strictEqual(expectStatus(yield* api.get(`/admin/rooms/${created.id}`), 200).default_gateway, "gxy1")
      const alice = yield* connect(base)
      assert.deepStrictEqual(yield* ask(alice, "createRoom", { roomId: created.id }), { ok: true, roomId: created.id, room: created, janus: "gxy1" })
      const joined = yield* ask(alice, "joinRoom", { roomId: created.id, token: "demo-token", userId: "alice" })
      assert.strictEqual(joined.janus, "gxy1")
      // a numeric room of the catalog is joined the same way, on its default gateway
      const bob = yield* connect(base)
      const demo = yield* ask(bob, "joinRoom", { roomId: 2172, token: "demo-token", userId: "bob" })
      assert.deepInclude(demo, { janus: "gxy2" })
      assert.deepInclude(demo.room, { id: "2172", name: "Room 2" })
      // leaveRoom: acknowledged, announced to the room, and the connection may join elsewhere
      const carol = yield* connect(base)
      yield* ask(carol, "joinRoom", { roomId: 2172, token: "demo-token", userId: "carol" })
      const carolHears = yield* nextEvent(carol, "userLeft")
      assert.deepStrictEqual(yield* ask(bob, "leaveRoom", { roomId: "2172" }), { ok: true, roomId: "2172" })
      assert.deepStrictEqual(yield* carolHears, { roomId: "2172", user: demo.user })
      assert.deepStrictEqual((yield* ask(carol, "getUsersInRoom", { roomId: 2172 })).users.map((u: any) => u.userId), ["carol"])
      const again = yield* ask(bob, "joinRoom", { roomId: "2172", token: "demo-token", userId: "bob" })
      assert.notStrictEqual(again.user.id, demo.user.id, "a new session")
      assert.lengthOf(yield* sql(`SELECT 1 FROM room_server_assignments`), 0, "legacy mode writes no assignment")
      assert.lengthOf(yield* sql(`SELECT 1 FROM room_transitions`), 0, "legacy mode has no room lifecycle")
      // the gxydb listing shows the same sessions
      const listed = expectStatus(yield* api.get("/room/2172"), 200)
      assert.deepStrictEqual(listed.users.map((u: any) => [u.id, u.janus, u.session, u.mic]), [
        ["carol", "gxy2", Number((yield* ask(carol, "getUsersInRoom", { roomId: 2172 })).users[0].id), false],
        ["bob", "gxy2", Number(again.user.id), false]
      ])
    }).pipe(Effect.scoped))

  it.live("bad payloads, unknown rooms and events, missing tokens: {error} acks, nothing stored", () =>
    Effect.gen(function*() {
      const { base, api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const room = expectStatus(yield* api.post("/api/rooms/create", { name: "Refusals" }), 201).room.id
      const socket = yield* connect(base)
      const join = (payload: unknown) => ask(socket, "joinRoom", payload)
      const ok = { roomId: room, token: "demo-token", userId: "alice" }
      const cases: ReadonlyArray<readonly [Effect.Effect<any>, RegExp]> = [
        [ask(socket, "joinRoom"), /^invalid joinRoom payload: /],
        [join("room"), /^invalid joinRoom payload: /],
        [join({ token: "demo-token", userId: "alice" }), /^invalid joinRoom payload: roomId: is required$/],
        [join({ ...ok, roomId: "no such room" }), /^invalid joinRoom payload: roomId: must be a positive integer or a string id/],
        [join({ ...ok, roomId: "nosuchroom" }), /^room nosuchroom not found$/],
        [join({ ...ok, roomId: 999999 }), /^room 999999 not found$/],
        [join({ ...ok, token: undefined }), /^token: is required/],
        [join({ ...ok, token: "" }), /^invalid joinRoom payload: token: /],
        [join({ ...ok, userId: "" }), /^invalid joinRoom payload: userId: must not be empty$/],
        [join({ ...ok, userId: "a\u0000b" }), /^invalid joinRoom payload: userId: must not contain NUL characters$/],
        [join({ ...ok, userId: "x".repeat(201) }), /userId: must be at most 200 characters/],
        [join({ ...ok, display: "\ud800" }), /display: must be valid Unicode/],
        [join({ ...ok, country: "ISR" }), /country: must be a two-letter country code/],
        [join({ ...ok, role: "admin" }), /^invalid joinRoom payload: role: is not a known field$/],
        [ask(socket, "updateUser", { isMicActive: true }), /^not in a room: send joinRoom first$/],
        [ask(socket, "leaveRoom"), /^not in a room$/],
        [ask(socket, "createRoom", { roomId: "nosuchroom" }), /^room nosuchroom not found$/],
        [ask(socket, "createRoom", {}), /^invalid createRoom payload: roomId: is required$/],
        [ask(socket, "getUsersInRoom", { roomId: "nosuchroom" }), /^room nosuchroom not found$/],
        [ask(socket, "getUsersInRoom", null), /^invalid getUsersInRoom payload: /],
        [ask(socket, "dropTables", {}), /^unknown event dropTables: send one of createRoom, joinRoom, updateUser, getUsersInRoom, leaveRoom$/]
      ]
      for (const [attempt, expected] of cases) {
        const reply = yield* attempt
        assert.deepStrictEqual(Object.keys(reply), ["error"], JSON.stringify(reply))
        assert.match(reply.error, expected)
      }
      assert.lengthOf(yield* sql(`SELECT 1 FROM sessions`), 0, "no session stored")
      assert.lengthOf(yield* sql(`SELECT 1 FROM users`), 0, "no user stored")
      assert.lengthOf(yield* sql(`SELECT 1 FROM room_transitions`), 0, "no room touched")

      // once in a room: bad updates are refused and change nothing; a second join is refused
      const joined = yield* join(ok)
      assert.notProperty(joined, "error")
      for (
        const [payload, expected] of [
          [{}, /give at least one of isMicActive, isCamActive, isShareScreen/],
          [{ isMicActive: "yes" }, /^invalid updateUser payload: isMicActive: /],
          [{ isMicActive: true, volume: 3 }, /volume: is not a known field/]
        ] as const
      ) assert.match((yield* ask(socket, "updateUser", payload)).error, expected)
      assert.match((yield* join(ok)).error, new RegExp(`^this connection is already in room ${room}: send leaveRoom first$`))
      assert.match((yield* ask(socket, "leaveRoom", { roomId: "2171" })).error, new RegExp(`^roomId: this connection is in room ${room}$`))
      assert.deepStrictEqual(
        yield* sql(`SELECT mic, camera, screen FROM sessions WHERE removed_at IS NULL`),
        [{ mic: false, camera: false, screen: false }]
      )
    }).pipe(Effect.scoped))

  it.live("a connection's events run in order: an update sent right after the join applies to it", () =>
    Effect.gen(function*() {
      const { base, sql } = yield* serviceOnFreshDatabase()
      const socket = yield* connect(base)
      const [joined, updated] = yield* Effect.all([
        ask(socket, "joinRoom", { roomId: "2171", token: "demo-token", userId: "eager" }),
        ask(socket, "updateUser", { isCamActive: true })
      ], { concurrency: 2 })
      assert.notProperty(joined, "error")
      assert.deepInclude(updated.user, { id: joined.user.id, isCamActive: true })
      assert.deepStrictEqual(yield* sql(`SELECT camera FROM sessions WHERE id = $1`, Number(joined.user.id)), [{ camera: true }])
    }).pipe(Effect.scoped))

  it.live("long polling works as well as WebSocket, and the client script is served", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase()
      const polling = yield* connect(base, { transports: ["polling"] })
      const joined = yield* ask(polling, "joinRoom", { roomId: "2171", token: "demo-token", userId: "poller" })
      assert.strictEqual(joined.janus, "gxy1")
      const script = yield* Effect.promise(() => fetch(`${base}/socket.io/socket.io.min.js`))
      assert.strictEqual(script.status, 200)
      assert.match(script.headers.get("content-type") ?? "", /javascript/)
      // the router still answers everything else
      assert.strictEqual((yield* api.get("/health")).status, 200)
      assert.strictEqual((yield* api.get("/nowhere")).status, 404)
    }).pipe(Effect.scoped))
})
