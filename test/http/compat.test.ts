// gxydb-api's real clients against the service: the request and message
// shapes of the Galaxy web client, of gxydb-api's own tests and of Janus's
// event handler, replayed over HTTP and MQTT, asserting what each client
// would see.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { brokerName, serviceOverMqtt } from "../support/broker.ts"
import { backend } from "../support/database.ts"
import { galaxyProfile, galaxySession } from "../support/galaxy.ts"
import { call, eventually, expectStatus, type Reply, serviceOnFreshDatabase } from "../support/service.ts"

/** The user object the Galaxy web client builds and sends (to /v2/room_server, and over MQTT to gxydb/users). */
const galaxyUser = (over: Record<string, unknown> = {}) => ({
  ...galaxyProfile,
  id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  ip: "85.64.1.2",
  country: "IL",
  room: "2171",
  group: "Room 1",
  janus: "gxy1",
  ...galaxySession,
  rfid: "7c9e6679-7425-40de-944b-e07fc1f90ae7-Xy3",
  ...over
})

/** A Janus event-handler videoroom event, as a gateway posts it. */
const videoroomEvent = (event: string, id: string | number, emitter: string, room: string | number = 2171) => ({
  emitter,
  type: 64,
  subtype: 0,
  timestamp: 1715412345123456,
  session_id: 846930886,
  handle_id: 1681692777,
  opaque_id: "videoroom-abc",
  event: { plugin: "janus.plugin.videoroom", data: { event, room, id } }
})

const machineOf = (api: { get: (p: string) => Effect.Effect<Reply> }, room: string | number) =>
  Effect.map(api.get(`/admin/rooms/${room}/machine`), (r) => r.body)

const stateIs = (api: { get: (p: string) => Effect.Effect<Reply> }, room: string | number, state: string) =>
  eventually(Effect.flatMap(machineOf(api, room), (m) => (m.state === state ? Effect.succeed(m) : Effect.fail(m.state))))

/** gxydb-api's 21 user fields, plus ours. */
const userFields = [
  "id", "display", "email", "group", "ip", "janus", "name", "role", "system", "username", "room", "timestamp",
  "session", "handle", "rfid", "textroom_handle", "camera", "question", "self_test", "sound_test", "extra",
  "mic", "screen", "country", "joined"
]

describe(`the Galaxy web client over HTTP (${backend})`, () => {
  it.live("POST /v2/room_server with the whole user object and no content type answers the gateway", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      // fetch with a string body and no headers sends text/plain; the client sets no content type either
      const response = yield* Effect.promise(() => fetch(`${base}/v2/room_server`, { method: "POST", body: JSON.stringify(galaxyUser()) }))
      assert.strictEqual(response.status, 200)
      const first = yield* Effect.promise(() => response.json() as Promise<{ janus: string }>)
      assert.match(first.janus, /^gxy\d+$/)
      // and with a JSON content type, sticky
      const again = yield* call("POST", `${base}/v2/room_server`, galaxyUser())
      assert.deepStrictEqual(expectStatus(again, 200), first)
    }).pipe(Effect.scoped))

  it.live("a keepalive with a UUID feed id and a string room shows every user field as the client sent it", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const user = galaxyUser()
      assert.deepStrictEqual(expectStatus(yield* api.put(`/users/${user.id}`, user), 200), { result: "success" })
      const room = expectStatus(yield* api.get("/room/2171"), 200)
      assert.deepInclude(room, { room: 2171, janus: "gxy1", description: "Room 1", num_users: 1, questions: false, region: "", extra: null })
      const [shown] = room.users
      assert.deepStrictEqual(Object.keys(shown).sort(), [...userFields].sort())
      assert.deepInclude(shown, {
        id: user.id, display: user.display, email: user.email, group: "Room 1", ip: user.ip, janus: "gxy1", name: "",
        role: "user", system: user.system, username: "Ivan", room: 2171, timestamp: user.timestamp, session: user.session,
        handle: user.handle, rfid: user.rfid, textroom_handle: 0, camera: true, question: false, self_test: false,
        sound_test: false, country: "IL", mic: false, screen: false
      })
      assert.deepStrictEqual(shown.extra, user.extra)
      assert.deepStrictEqual(expectStatus(yield* api.get("/rooms"), 200), [room])
      // a room in use on gxy1 stays there (no split)
      assert.deepInclude(yield* machineOf(api, 2171), { state: "assigned", gateway: "gxy1", sessions: 1 })
    }).pipe(Effect.scoped))

  it.live("gxydb-api's own keepalive fixture: string room and rfid, nested extra; the same session is updated", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase()
      const body = {
        id: "0123456789abcdef0123456789abcdef0123", display: "first last", email: "user@example.com", group: "Test Room",
        ip: "127.0.0.1", janus: "gxy2", name: "user-abcd", role: "user", system: "user_agent", username: "username",
        room: "2172", timestamp: 1715412345, session: 123456789, handle: 987654321, rfid: "1122334455",
        textroom_handle: 55667788, camera: false, question: false, self_test: false, sound_test: false,
        extra: { key: "value", key2: { nested_key: "value" } }
      }
      expectStatus(yield* api.put(`/users/${body.id}`, body), 200)
      expectStatus(yield* api.put(`/users/${body.id}`, { ...body, question: true, camera: true }), 200)
      const room = expectStatus(yield* api.get("/room/2172"), 200)
      assert.strictEqual(room.users.length, 1, "the same (user, gateway, session) is one session")
      assert.deepInclude(room.users[0], {
        id: body.id, group: "Test Room", name: "user-abcd", system: "user_agent", room: 2172, timestamp: 1715412345,
        session: 123456789, handle: 987654321, rfid: "1122334455", textroom_handle: 55667788, camera: true, question: true
      })
      assert.deepStrictEqual(room.users[0].extra, body.extra)
      assert.isTrue(room.questions)
    }).pipe(Effect.scoped))

  it.live("a leaving event with a string feed id and Janus's own server name as emitter closes the session; the room drains", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "400ms" })
      const { janus } = expectStatus(yield* api.post("/v2/room_server", galaxyUser()), 200)
      const user = galaxyUser({ janus })
      expectStatus(yield* api.put(`/users/${user.id}`, user), 200)
      // an emitter naming another registered gateway narrows the close to that gateway: nothing closes
      const other = janus === "gxy2" ? "gxy3" : "gxy2"
      expectStatus(yield* api.post("/event", videoroomEvent("leaving", user.rfid, other)), 200)
      assert.strictEqual((yield* machineOf(api, 2171)).sessions, 1)
      // Janus names itself by its server name, which is no gateway of ours: the feed closes wherever it is
      assert.deepStrictEqual(expectStatus(yield* api.post("/event", videoroomEvent("leaving", user.rfid, "janus-server-7")), 200), { result: "success" })
      assert.deepInclude(yield* machineOf(api, 2171), { state: "draining", gateway: janus, sessions: 0 })
      assert.deepStrictEqual(expectStatus(yield* api.get("/room/2171"), 200).users, [])
      yield* stateIs(api, 2171, "idle")
    }).pipe(Effect.scoped))

  it.live("browsers: a CORS preflight is answered 204 and answers carry Access-Control-Allow-Origin", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase()
      const preflight = yield* Effect.promise(() => fetch(`${base}/v2/room_server`, {
        method: "OPTIONS",
        headers: { origin: "https://galaxy.example.org", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" }
      }))
      assert.strictEqual(preflight.status, 204)
      assert.strictEqual(preflight.headers.get("access-control-allow-origin"), "*")
      assert.include(preflight.headers.get("access-control-allow-methods"), "POST")
      assert.include(preflight.headers.get("access-control-allow-headers"), "authorization")
      const groups = yield* Effect.promise(() => fetch(`${base}/groups`, { headers: { origin: "https://galaxy.example.org" } }))
      assert.strictEqual(groups.status, 200)
      assert.strictEqual(groups.headers.get("access-control-allow-origin"), "*")
      // an error is readable by the browser too
      const missing = yield* Effect.promise(() => fetch(`${base}/room/99999`, { headers: { origin: "https://galaxy.example.org" } }))
      assert.strictEqual(missing.status, 404)
      assert.strictEqual(missing.headers.get("access-control-allow-origin"), "*")
    }).pipe(Effect.scoped))

  it.live("CORS_ORIGINS limits the origins browsers may call from", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ CORS_ORIGINS: "https://galaxy.example.org,https://admin.example.org" })
      const from = (origin: string) => Effect.promise(() => fetch(`${base}/groups`, { headers: { origin } }))
      assert.strictEqual((yield* from("https://admin.example.org")).headers.get("access-control-allow-origin"), "https://admin.example.org")
      assert.isNull((yield* from("https://evil.example.com")).headers.get("access-control-allow-origin"))
    }).pipe(Effect.scoped))

  it.live("GET /health_check answers like /health", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase()
      assert.deepStrictEqual(expectStatus(yield* api.get("/health_check"), 200), expectStatus(yield* api.get("/health"), 200))
    }).pipe(Effect.scoped))
})

describe(`string room ids end to end (${backend})`, () => {
  it.live("a room with a Janus string id is created, assigned, joined, listed, left and released", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "400ms" })
      const created = expectStatus(yield* api.post("/admin/rooms", { room: "class-7b", name: "Class 7B", default_gateway: "gxy3" }), 201)
      assert.deepInclude(created, { room: "class-7b", name: "Class 7B", default_gateway: "gxy3" })
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: "class-7b" }), 200)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: "class-7b" }), 200), { janus })
      expectStatus(yield* api.put("/users/pupil", galaxyUser({ id: "pupil", room: "class-7b", janus, rfid: "pupil-abc" })), 200)
      const listed = expectStatus(yield* api.get("/rooms"), 200)
      assert.deepInclude(listed[0], { room: "class-7b", janus, description: "Class 7B", num_users: 1 })
      assert.strictEqual(listed[0].users[0].room, "class-7b")
      assert.isDefined(expectStatus(yield* api.get("/groups"), 200).rooms.find((r: { room: unknown }) => r.room === "class-7b"))
      expectStatus(yield* api.post("/event", videoroomEvent("leaving", "pupil-abc", janus, "class-7b")), 200)
      assert.deepInclude(yield* machineOf(api, "class-7b"), { state: "draining", gateway: janus })
      yield* stateIs(api, "class-7b", "idle")
    }).pipe(Effect.scoped))

  it.live("numbers and numeric strings are the same room; ROOM_IDS_AS_STRINGS writes every id as a string", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ ROOM_IDS_AS_STRINGS: "true" })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2173 }), 200), { janus: "gxy3" })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: "2173" }), 200), { janus: "gxy3" })
      expectStatus(yield* api.put("/users/u", { room: 2173, janus: "gxy3", session: 1, rfid: "u-1" }), 200)
      const room = expectStatus(yield* api.get("/room/2173"), 200)
      assert.strictEqual(room.room, "2173")
      assert.strictEqual(room.users[0].room, "2173")
      assert.isTrue(expectStatus(yield* api.get("/groups"), 200).rooms.every((r: { room: unknown }) => typeof r.room === "string"))
      expectStatus(yield* api.post("/admin/rooms", { room: "2173", name: "again" }), 409)
    }).pipe(Effect.scoped))
})

describe(`the Galaxy web client over MQTT (${backend}, ${brokerName})`, () => {
  it.live("its whole user object on gxydb/users joins the room; a leaving event with its string id on gxydb/events closes it", () =>
    Effect.gen(function*() {
      const { api, pub, tag, gateway, room } = yield* serviceOverMqtt({
        room: (tag) => `mqtt-${tag}`,
        onGateway: false,
        env: () => ({ DRAIN_GRACE: "400ms" })
      })
      const user = galaxyUser({ id: `u-${tag}`, room, janus: gateway, rfid: `u-${tag}-Xy3` })
      // the web client publishes to the bare topic, with its id in the body
      yield* pub.publish("gxydb/users", user)
      const shown = yield* eventually(Effect.flatMap(api.get(`/room/${room}`), (r) => (r.body.users?.length > 0 ? Effect.succeed(r.body) : Effect.fail(r))))
      assert.deepInclude(shown.users[0], { id: `u-${tag}`, rfid: `u-${tag}-Xy3`, room, janus: gateway, timestamp: user.timestamp })
      assert.deepInclude(yield* machineOf(api, room), { state: "assigned", gateway, sessions: 1 })
      yield* pub.publish(`gxydb/events/${gateway}`, videoroomEvent("leaving", `u-${tag}-Xy3`, "janus-host-1", room))
      yield* stateIs(api, room, "idle")
      assert.deepStrictEqual(expectStatus(yield* api.get(`/room/${room}`), 200).users, [])
    }).pipe(Effect.scoped))
})
