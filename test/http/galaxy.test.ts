// Galaxy as it really is: requests built the way the Galaxy web client
// (galaxy3's VirtualApp) builds them — its user object with the geo
// service's answer (a country *name* in `country`, the code in
// `geo.country_code`), its keepalive loop, Janus's leaving event — over HTTP
// and MQTT; optional fields that cannot be stored are kept, cut or dropped,
// never a reason to refuse; the Shidur app's room flags; meeting rooms kept
// out of Galaxy's lists; an empty retained status clearing a gateway's.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { brokerName, serviceOverMqtt } from "../support/broker.ts"
import { backend } from "../support/database.ts"
import { galaxyProfile, galaxySession } from "../support/galaxy.ts"
import { bearer, send, signHs256 } from "../support/identity.ts"
import { collectLogs, eventually, expectStatus, type Reply, serviceOnFreshDatabase } from "../support/service.ts"

/** What the geo service answers (galaxy3's geoInfo): the country's name, its code apart. */
const geoAnswer = { ip: "85.64.1.2", country: "Israel", code: "IL", city: "Tel Aviv", isp: "Bezeq", isp_code: "BZQ" }

/**
 * The user object of galaxy3's VirtualMqttClient after the geo answer
 * (setSentryGeo, then `user.ip`, `user.country = data.country`), the room
 * picked from /groups, and the Janus session it joined.
 */
const galaxyUser = (id: string, room: number | string, janus: string, over: Record<string, unknown> = {}) => ({
  ...galaxyProfile,
  id,
  geo: { country_code: geoAnswer.code, city: geoAnswer.city, region: geoAnswer.country },
  ip: geoAnswer.ip,
  country: geoAnswer.country,
  room,
  group: "Room 1",
  janus,
  ...galaxySession,
  // Janus's publisher id, a number unless the room uses string ids
  rfid: 4455667788,
  ...over
})

/** Janus's event handler when the user leaves the videoroom. */
const leaving = (emitter: string, room: number | string, feed: number | string) => ({
  emitter,
  type: 64,
  subtype: 0,
  timestamp: 1715412345123456,
  session_id: 2964711542310155,
  handle_id: 7138924455716822,
  event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", room, id: feed } }
})

const gatewayOf = (api: { get: (p: string) => Effect.Effect<Reply> }, name: string) =>
  Effect.map(api.get("/servers"), (r) => (r.body as ReadonlyArray<{ name: string }>).find((g) => g.name === name) as Record<string, unknown>)

/** The counter of fields not kept as sent, for one field and outcome, read from /metrics. */
const notKept = (api: { get: (p: string) => Effect.Effect<Reply> }, field: string, outcome: string) =>
  Effect.map(api.get("/metrics"), (r) => {
    const line = String(r.body).split("\n").find((l) => l.startsWith(`client_fields_not_kept_total{field="${field}",outcome="${outcome}"}`))
    return line === undefined ? undefined : Number(line.split(" ").at(-1))
  })

describe(`the Galaxy web client as it really sends (${backend})`, () => {
  it.live("its user object with a country name is accepted, listed with its fields and counted on its gateway; leaving closes it", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const user = galaxyUser("7c9e6679-7425-40de-944b-e07fc1f90ae7", 2171, "")
      // fetchGxyServer posts the whole user object, geo included
      const { janus } = expectStatus(yield* api.post("/v2/room_server", user), 200)
      assert.match(janus, /^gxy\d+$/)
      // the keepalive loop: updateUser(user.id, user) every few seconds, the same object
      const joined = { ...user, janus }
      for (let i = 0; i < 3; i++) assert.deepStrictEqual(expectStatus(yield* api.put(`/users/${user.id}`, joined), 200), { result: "success" })

      const [room] = expectStatus(yield* api.get("/rooms"), 200)
      assert.deepInclude(room, { room: 2171, janus, num_users: 1 })
      assert.deepInclude(room.users[0], {
        id: user.id, display: "Ivan Petrov", country: "Israel", ip: "85.64.1.2", janus, room: 2171, rfid: "4455667788",
        session: 2964711542310155, handle: 7138924455716822, timestamp: 1715412345123, camera: true
      })
      assert.deepStrictEqual(room.users[0].extra, user.extra)
      assert.deepInclude(yield* gatewayOf(api, janus), { rooms: 1, users: 1, load: 10 })

      expectStatus(yield* api.post("/event", leaving(janus, 2171, 4455667788)), 200)
      assert.deepStrictEqual(expectStatus(yield* api.get("/rooms"), 200), [])
      assert.deepInclude(yield* gatewayOf(api, janus), { users: 0 })
    }).pipe(Effect.scoped))

  it.live("a class that met twice with 14 students holds 14 on its gateway before anyone joins: /servers shows 4 of it reserved", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", AVG_ROOM_OCCUPANCY: "10", DRAIN_GRACE: "300ms", ASSIGNMENT_TTL: "1m" })
      const lesson = (n: number) =>
        Effect.gen(function*() {
          const { janus } = expectStatus(yield* api.post("/v2/room_server", galaxyUser(`asker-${n}`, 2171, "")), 200)
          for (let i = 1; i <= 14; i++) {
            const student = galaxyUser(`student-${n}-${i}`, 2171, janus, { session: 1000 * n + i, rfid: 1000 * n + i })
            expectStatus(yield* api.put(`/users/${student.id}`, student), 200)
          }
          assert.deepInclude(yield* gatewayOf(api, janus), { rooms: 1, users: 14, load: 14, reserved: 0 })
          for (let i = 1; i <= 14; i++) expectStatus(yield* api.post("/event", leaving(janus, 2171, 1000 * n + i)), 200)
          // past the drain grace the reservation ends and the room has learnt its size
          yield* eventually(Effect.flatMap(gatewayOf(api, janus), (g) => (g.rooms === 0 ? Effect.void : Effect.fail(g))))
        })
      yield* lesson(1)
      yield* lesson(2)
      const { janus } = expectStatus(yield* api.post("/v2/room_server", galaxyUser("asker-3", 2171, "")), 200)
      // nobody joined yet: 14 held, 10 of them the average every new room reserves, 4 beyond it
      assert.deepInclude(yield* gatewayOf(api, janus), { rooms: 1, users: 0, load: 14, reserved: 4 })
    }).pipe(Effect.scoped), 60_000)

  it.live("optional fields that cannot be stored are cut, converted or dropped, counted and logged once; the keepalive succeeds", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" }, logs.logger)
      const malformed = galaxyUser("u-malformed", 2172, "gxy2", {
        country: "X".repeat(70),
        display: "Ivan\u0000 Petrov",
        ip: 12345,
        timestamp: 1715412345123.75,
        textroom_handle: "not a handle",
        handle: -5,
        camera: "true",
        question: { yes: true },
        extra: { blob: "x".repeat(5_000) },
        geo: { country_code: "ISR" }
      })
      // a three-letter code matches no region: the room is placed as any other
      assert.match(expectStatus(yield* api.post("/v2/room_server", malformed), 200).janus, /^gxy\d+$/)
      expectStatus(yield* api.post("/v2/room_server", { room: 2173, geo: "Israel" }), 200)
      expectStatus(yield* api.post("/v2/room_server", { room: 2174, geo: { country_code: "" } }), 200)
      for (let i = 0; i < 2; i++) expectStatus(yield* api.put("/users/u-malformed", malformed), 200)

      const shown = expectStatus(yield* api.get("/room/2172"), 200).users[0]
      assert.deepInclude(shown, {
        country: "X".repeat(64), display: "Ivan Petrov", ip: "12345", timestamp: 1715412345123, textroom_handle: 0,
        handle: 0, camera: true, question: false, extra: null
      })

      for (const [field, outcome, times] of [
        ["extra", "dropped", 2], ["question", "dropped", 2], ["textroom_handle", "dropped", 2], ["handle", "dropped", 2],
        ["country", "normalised", 2], ["display", "normalised", 2], ["ip", "normalised", 2], ["timestamp", "normalised", 2],
        ["camera", "normalised", 2], ["geo", "dropped", 1]
      ] as const) {
        assert.strictEqual(yield* notKept(api, field, outcome), times, `${field} ${outcome}`)
      }
      // kept fields and codes of no region are not counted
      assert.strictEqual(yield* notKept(api, "email", "dropped"), 0)
      assert.strictEqual(yield* notKept(api, "geo.country_code", "dropped"), 0)
      // one line per field, not one per keepalive
      const lines = logs.lines.filter((l) => l.includes("Client field not kept as sent") && l.includes("field=extra"))
      assert.strictEqual(lines.length, 1, lines.join("\n"))
      assert.match(lines[0]!, /outcome=dropped/)
      assert.match(lines[0]!, /reason="over 4096 bytes"/)
    }).pipe(Effect.scoped))

  it.live("what identifies the session is still required: a clear 400 naming the field", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const user = galaxyUser("u-required", 2171, "gxy1")
      const refused = [
        [{ ...user, room: undefined }, /room/],
        [{ ...user, room: "no such room!" }, /room/],
        [{ ...user, janus: undefined }, /janus/],
        [{ ...user, janus: "nosuchgateway" }, /protocol error: unknown gateway nosuchgateway/],
        [{ ...user, rfid: "" }, /protocol error: rfid is empty/],
        [{ ...user, rfid: { id: 1 } }, /rfid/],
        [{ ...user, session: "abc" }, /session/],
        [{ ...user, room: 999_999 }, /protocol error: unknown room 999999/]
      ] as const
      for (const [body, message] of refused) assert.match(expectStatus(yield* api.put("/users/u-required", body), 400).error, message)
      assert.match(expectStatus(yield* api.post("/v2/room_server", { ...user, room: undefined }), 400).error, /room/)
      assert.deepStrictEqual(expectStatus(yield* api.get("/rooms"), 200), [])
    }).pipe(Effect.scoped))

  it.live("Janus events with odd envelopes are accepted and ignored; only a closing event's feed id is checked", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      expectStatus(yield* api.put("/users/u-events", galaxyUser("u-events", 2171, "gxy1")), 200)
      for (const odd of [{ type: "sixty-four" }, { type: 64, event: "leaving" }, { emitter: 5, type: 1, event: { name: "created" } }, {}]) {
        expectStatus(yield* api.post("/event", odd), 200)
      }
      assert.strictEqual(expectStatus(yield* api.get("/room/2171"), 200).num_users, 1)
      assert.match(expectStatus(yield* api.post("/event", { ...leaving("gxy1", 2171, 1), event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", id: [1] } } }), 400).error, /event\.data\.id/)
      // an emitter that is not text is dropped: the feed is closed wherever it is
      expectStatus(yield* api.post("/event", { ...leaving("gxy1", 2171, 4455667788), emitter: { name: "gxy1" } }), 200)
      assert.strictEqual(expectStatus(yield* api.get("/room/2171"), 200).num_users, 0)
      assert.strictEqual(yield* notKept(api, "emitter", "dropped"), 1)
    }).pipe(Effect.scoped))
})

describe(`the Galaxy web client over MQTT (${backend}, ${brokerName})`, () => {
  it.live("its user object on gxydb/users, country name and all, is listed; an empty retained status clears the gateway's", () =>
    Effect.gen(function*() {
      const { api, pub, tag, gateway: gw, room } = yield* serviceOverMqtt()

      // updateGxyUser: the whole user object on the bare topic gxydb/users
      yield* pub.publish("gxydb/users", galaxyUser(`mq-${tag}`, room, gw, { timestamp: 1.5, extra: { big: "y".repeat(5_000) } }))
      const listed = yield* eventually(Effect.flatMap(api.get(`/room/${room}`), (r) => (r.body.users?.length > 0 ? Effect.succeed(r.body) : Effect.fail(r))))
      assert.deepInclude(listed.users[0], { id: `mq-${tag}`, country: "Israel", janus: gw, timestamp: 1, extra: null })
      assert.deepInclude(yield* gatewayOf(api, gw), { users: 1 })

      const status = `janus/${gw}/status`
      yield* Effect.addFinalizer(() => pub.publish(status, "", true).pipe(Effect.ignore))
      yield* pub.publish(status, { online: false }, true)
      yield* eventually(Effect.flatMap(gatewayOf(api, gw), (g) => (g.online === false ? Effect.void : Effect.fail(g))))
      // how an operator clears a retained status: an empty retained message
      yield* pub.publish(status, "", true)
      yield* eventually(Effect.flatMap(api.get("/admin/gateways"), (r) => {
        const g = (r.body as ReadonlyArray<{ name: string; online: unknown }>).find((x) => x.name === gw)
        return g?.online === null ? Effect.void : Effect.fail(g)
      }))
      assert.strictEqual((yield* api.get("/metrics")).body.includes('mqtt_messages_total{topic="status",outcome="dropped"} 0'), true)
    }).pipe(Effect.scoped))
})

describe(`Galaxy's room lists and the Shidur app (${backend})`, () => {
  it.live("meeting rooms stay out of /groups and /rooms unless kind=all; the admin API lists every room", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const meeting = expectStatus(yield* api.post("/api/rooms/create", { name: "Aaa weekly sync" }), 201).room
      expectStatus(yield* api.put("/users/u-meet", { room: meeting.id, janus: "gxy3", session: 1, rfid: "m-1" }), 200)
      expectStatus(yield* api.put("/users/u-galaxy", { room: 2171, janus: "gxy1", session: 2, rfid: "g-1" }), 200)

      const groups = expectStatus(yield* api.get("/groups"), 200).rooms.map((r: { room: unknown }) => r.room)
      assert.deepStrictEqual(groups, [2171, 2172, 2173, 2174, 2175, 2176, 2177, 2178, 2179, 2180, 2181, 2182])
      assert.deepStrictEqual(expectStatus(yield* api.get("/rooms"), 200).map((r: { room: unknown }) => r.room), [2171])

      const all = expectStatus(yield* api.get("/groups?kind=all"), 200).rooms.map((r: { room: unknown }) => r.room)
      assert.strictEqual(all.length, 13)
      assert.strictEqual(all[0], meeting.id, "sorted by description: Aaa weekly sync first")
      assert.deepStrictEqual(expectStatus(yield* api.get("/rooms?kind=all"), 200).map((r: { room: unknown }) => r.room), [meeting.id, 2171])
      assert.strictEqual(expectStatus(yield* api.get("/rooms?kind=some"), 400).error.includes("kind"), true)
      // one room by id is found whatever its kind
      assert.strictEqual(expectStatus(yield* api.get(`/room/${meeting.id}`), 200).num_users, 1)
      assert.isDefined(expectStatus(yield* api.get("/admin/rooms"), 200).find((r: { room: unknown }) => r.room === meeting.id))
    }).pipe(Effect.scoped))

  it.live("a meeting room empty for MEETING_ROOM_TTL is removed with its history; one in use stays, configured rooms stay", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const { api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true", MEETING_ROOM_TTL: "2s", DRAIN_GRACE: "200ms" }, logs.logger)
      const idle = expectStatus(yield* api.post("/api/rooms/create", { name: "Left behind" }), 201).room
      const used = expectStatus(yield* api.post("/api/rooms/create", { name: "In use" }), 201).room
      // the idle one had a user once: its history and closed session go with it
      expectStatus(yield* api.put("/users/u-once", { room: idle.id, janus: "gxy1", session: 1, rfid: "once" }), 200)
      expectStatus(yield* api.post("/event", leaving("gxy1", idle.id, "once")), 200)
      const keep = (session: number) => api.put("/users/u-keep", { room: used.id, janus: "gxy2", session, rfid: "keep" })
      expectStatus(yield* keep(1), 200)

      const started = Date.now()
      yield* eventually(Effect.flatMap(api.get(`/api/rooms/${idle.id}`), (r) => (r.status === 404 ? Effect.void : Effect.flatMap(keep(1), () => Effect.fail(r)))), 150)
      assert.isAtLeast(Date.now() - started, 1_000, "not before the TTL")
      assert.deepStrictEqual(yield* sql(`SELECT count(*)::int AS n FROM room_transitions t JOIN rooms r ON r.id = t.room_id WHERE r.room = $1`, idle.id), [{ n: 0 }])
      assert.deepStrictEqual(yield* sql(`SELECT count(*)::int AS n FROM rooms WHERE room = $1`, idle.id), [{ n: 0 }])
      assert.strictEqual(expectStatus(yield* api.get("/admin/rooms"), 200).some((r: { room: unknown }) => r.room === idle.id), false)
      expectStatus(yield* api.get(`/api/rooms/${used.id}`), 200)
      expectStatus(yield* api.get("/room/2171"), 200)
      assert.isDefined(logs.lines.find((l) => l.includes("Removed empty meeting rooms")))
    }).pipe(Effect.scoped))

  it.live("PUT /rooms/:id as the Shidur app sends it writes only extra, shown by /groups and /rooms; 404 unknown; roles checked; audited", () =>
    Effect.gen(function*() {
      const secret = "galaxy-test-secret-of-32-bytes-or-more"
      const logs = collectLogs()
      const { base } = yield* serviceOnFreshDatabase({ AUTH_JWT_SECRET: secret }, logs.logger)
      const http = send(base)
      const shidur = bearer(yield* signHs256(secret, { roles: ["gxy_shidur"], sub: "toran" }))
      const user = bearer(yield* signHs256(secret, { roles: ["gxy_user"] }))

      const listed = (yield* http("GET", "/groups", user)).body.rooms.find((r: { room: number }) => r.room === 2171)
      // vipRoom(): the room as listed, with a flag in extra
      const flagged = { ...listed, extra: { ...(listed.extra ?? {}), vip1: true }, description: "renamed?", janus: "gxy9" }
      assert.deepStrictEqual(expectStatus(yield* http("PUT", "/rooms/2171", shidur, flagged), 200), { result: "success" })
      const after = (yield* http("GET", "/groups", user)).body.rooms.find((r: { room: number }) => r.room === 2171)
      assert.deepStrictEqual(after, { ...listed, extra: { vip1: true } }, "only extra changed")
      expectStatus(yield* http("PUT", "/users/u1", user, { room: 2171, janus: "gxy1", session: 1, rfid: "r1" }), 200)
      assert.deepStrictEqual((yield* http("GET", "/rooms", user)).body[0].extra, { vip1: true })

      // restoreRoom(): extra null clears it
      expectStatus(yield* http("PUT", "/rooms/2171", shidur, { ...after, extra: null }), 200)
      assert.strictEqual((yield* http("GET", "/groups", user)).body.rooms.find((r: { room: number }) => r.room === 2171).extra, null)

      assert.match(expectStatus(yield* http("PUT", "/rooms/999999", shidur, { extra: {} }), 404).error, /room 999999 not found/)
      assert.match(expectStatus(yield* http("PUT", "/rooms/2171", shidur, { extra: [1, 2] }), 400).error, /extra/)
      assert.strictEqual((yield* http("PUT", "/rooms/2171", user, { extra: {} })).status, 403)
      assert.strictEqual((yield* http("PUT", "/rooms/2171", {}, { extra: {} })).status, 401)
      const audit = logs.lines.filter((l) => l.includes("Admin change") && l.includes("action=room.extra"))
      assert.strictEqual(audit.length, 2, audit.join("\n"))
      assert.match(audit[0]!, /subject=toran/)
    }).pipe(Effect.scoped))
})
