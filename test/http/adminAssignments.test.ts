// Admin routes for who is where (SPEC §5): live sessions listed with filters
// and paging and closed as a leave; assignments listed, released (empty
// rooms only) and moved by the room's machine; every change audited with
// who made it. Run on the embedded database and, in CI, on the real Postgres.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, References } from "effect"
import { formatFlatJson } from "../../src/logging.ts"
import { backend } from "../support/database.ts"
import { call, type Reply, serviceOnFreshDatabase } from "../support/service.ts"

const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

const auditLog = () => {
  const lines: Array<string> = []
  const logger = Layer.mergeAll(
    Logger.layer([Logger.map(formatFlatJson, (line) => void lines.push(line))]),
    Layer.succeed(References.MinimumLogLevel, "Info")
  )
  const find = (message: string) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === message)
  return { logger, find }
}

/** The fields of a listed session a test can know in advance. */
const known = (s: Record<string, unknown>) => ({ user: s.user, room: s.room, gateway: s.gateway, rfid: s.rfid, display: s.display, gateway_session: s.gateway_session })

describe(`admin: sessions (${backend})`, () => {
  it.live("lists live sessions by room, gateway and user, a page at a time, and closes one as a leave: its room hears it", () =>
    Effect.gen(function*() {
      const logs = auditLog()
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" }, logs.logger)
      const keepalive = (user: string, room: number, janus: string, session: number) =>
        api.put(`/users/${user}`, { room, janus, session, rfid: `${user}-${session}`, display: user.toUpperCase() })
      expectStatus(yield* keepalive("u1", 2171, "gxy3", 11), 200)
      expectStatus(yield* keepalive("u2", 2171, "gxy3", 12), 200)
      expectStatus(yield* keepalive("u3", 2172, "gxy4", 13), 200)

      const all = expectStatus(yield* api.get("/admin/sessions"), 200)
      assert.deepStrictEqual(all.sessions.map(known), [
        { user: "u1", room: 2171, gateway: "gxy3", rfid: "u1-11", display: "U1", gateway_session: 11 },
        { user: "u2", room: 2171, gateway: "gxy3", rfid: "u2-12", display: "U2", gateway_session: 12 },
        { user: "u3", room: 2172, gateway: "gxy4", rfid: "u3-13", display: "U3", gateway_session: 13 }
      ])
      assert.isNull(all.next_cursor)
      assert.match(all.sessions[0].joined, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

      const users = (reply: Reply) => expectStatus(reply, 200).sessions.map((s: { user: string }) => s.user)
      assert.deepStrictEqual(users(yield* api.get("/admin/sessions?room=2171")), ["u1", "u2"])
      assert.deepStrictEqual(users(yield* api.get("/admin/sessions?room=02171")), ["u1", "u2"], "a room id in any form")
      assert.deepStrictEqual(users(yield* api.get("/admin/sessions?gateway=gxy4")), ["u3"])
      assert.deepStrictEqual(users(yield* api.get("/admin/sessions?user=u2")), ["u2"])
      assert.deepStrictEqual(users(yield* api.get("/admin/sessions?room=2171&user=u3")), [])

      const first = expectStatus(yield* api.get("/admin/sessions?limit=2"), 200)
      assert.deepStrictEqual(first.sessions.map((s: { user: string }) => s.user), ["u1", "u2"])
      assert.strictEqual(first.next_cursor, String(first.sessions[1].id))
      const second = expectStatus(yield* api.get(`/admin/sessions?limit=2&cursor=${first.next_cursor}`), 200)
      assert.deepStrictEqual(second, { sessions: [all.sessions[2]], next_cursor: null })

      for (const [query, field] of [["limit=0", "limit"], ["limit=1001", "limit"], ["cursor=x", "cursor"], ["room=a%20b", "room"], ["gateway=-x", "gateway"]]) {
        assert.include(expectStatus(yield* api.get(`/admin/sessions?${query}`), 400).error, field, query)
      }

      // closed as a leave: the room counts one fewer, then the last one starts the drain
      const u1 = all.sessions[0]
      assert.deepStrictEqual(expectStatus(yield* api.delete(`/admin/sessions/${u1.id}`), 200), u1)
      assert.deepStrictEqual(users(yield* api.get("/admin/sessions?room=2171")), ["u2"])
      assert.deepInclude(expectStatus(yield* api.get("/admin/rooms/2171/machine"), 200), { state: "assigned", sessions: 1 })
      expectStatus(yield* api.delete(`/admin/sessions/${u1.id}`), 404)
      expectStatus(yield* api.delete(`/admin/sessions/${all.sessions[1].id}`), 200)
      const machine = expectStatus(yield* api.get("/admin/rooms/2171/machine"), 200)
      assert.deepInclude(machine, { state: "draining", gateway: "gxy3", sessions: 0 })
      assert.deepStrictEqual(
        machine.history.slice(-2).map((t: { from: string; event: string; to: string; sessions: number }) => `${t.from}→${t.to} ${t.event} ${t.sessions}`),
        ["assigned→assigned SESSION.LEFT 1", "assigned→draining SESSION.LEFT 0"]
      )
      const room = expectStatus(yield* api.get("/room/2171"), 200)
      assert.deepStrictEqual(room.users, [])
      assert.include(expectStatus(yield* api.delete("/admin/sessions/abc"), 400).error, "id")

      const closes = logs.find("Admin change").filter((l) => l.action === "session.close")
      assert.strictEqual(closes.length, 2)
      assert.deepInclude(closes[0], { subject: "anonymous", action: "session.close", session: u1.id })
      assert.deepStrictEqual(JSON.parse(String(closes[0]!.changes)), { room: "2171", user: "u1", gateway: "gxy3" })
    }).pipe(Effect.scoped))
})

describe(`admin: assignments (${backend})`, () => {
  it.live("lists assignments; releases an empty room's at once and refuses one in use", () =>
    Effect.gen(function*() {
      const logs = auditLog()
      const { api, base, sql } = yield* serviceOnFreshDatabase({ SCALE: "true" }, logs.logger)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200), { janus: "gxy1" })
      expectStatus(yield* api.put("/users/u1", { room: 2171, janus: "gxy1", session: 1, rfid: "u1-1" }), 200)
      // a reservation nobody used yet
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2172 }), 200), { janus: "gxy2" })

      const listed = expectStatus(yield* api.get("/admin/assignments"), 200)
      assert.deepStrictEqual(
        listed.assignments.map(({ assigned_at: _, last_used_at: __, ...a }: Record<string, unknown>) => a),
        [
          { room: 2171, gateway: "gxy1", region: null, state: "assigned", users: 1 },
          { room: 2172, gateway: "gxy2", region: null, state: "assigned", users: 0 }
        ]
      )
      assert.isNull(listed.next_cursor)
      const onGxy2 = expectStatus(yield* api.get("/admin/assignments?gateway=gxy2"), 200)
      assert.deepStrictEqual(onGxy2.assignments.map((a: { room: number }) => a.room), [2172])
      const paged = expectStatus(yield* api.get("/admin/assignments?limit=1"), 200)
      assert.deepStrictEqual([paged.assignments.length, typeof paged.next_cursor], [1, "string"])

      assert.deepStrictEqual(expectStatus(yield* api.post("/admin/assignments/2171/release", {}), 409), {
        error: "room 2171 has 1 users: only an empty room's assignment is released"
      })
      assert.deepStrictEqual(expectStatus(yield* api.post("/admin/assignments/2172/release", {}), 200), {
        room: 2172, state: "idle", gateway: null, previous_gateway: "gxy2", region: null, sessions: 0
      })
      assert.deepStrictEqual(yield* sql("SELECT a.gateway_name FROM room_server_assignments a JOIN rooms r ON r.id = a.room_id WHERE r.room = '2172'"), [])
      assert.deepStrictEqual(expectStatus(yield* api.post("/admin/assignments/2172/release", {}), 404), { error: "room 2172 has no assignment" })
      expectStatus(yield* api.post("/admin/assignments/999/release", {}), 404)
      const history = expectStatus(yield* api.get("/admin/rooms/2172/machine"), 200).history
      assert.deepInclude(history.at(-1), { from: "assigned", event: "RELEASE.REQUESTED", to: "idle", gateway: "gxy2" })

      // a draining room is released without waiting out DRAIN_GRACE
      const [session] = expectStatus(yield* api.get("/admin/sessions?room=2171"), 200).sessions
      expectStatus(yield* api.delete(`/admin/sessions/${session.id}`), 200)
      assert.deepInclude(expectStatus(yield* api.get("/admin/rooms/2171/machine"), 200), { state: "draining" })
      assert.deepInclude(expectStatus(yield* api.post("/admin/assignments/2171/release", {}), 200), { state: "idle", gateway: null, previous_gateway: "gxy1" })
      assert.deepStrictEqual(expectStatus(yield* api.get("/admin/assignments"), 200).assignments, [])

      const releases = logs.find("Admin change").filter((l) => l.action === "assignment.release")
      assert.deepStrictEqual(releases.map((l) => [l.subject, l.room, l.changes]), [
        ["anonymous", "2172", JSON.stringify({ gateway: "gxy2" })],
        ["anonymous", "2171", JSON.stringify({ gateway: "gxy1" })]
      ])
      assert.deepInclude(logs.find("Released room assignment")[0], { room_id: "2172", gateway_name: "gxy2", reason: "released by admin" })
      const metrics = yield* call("GET", `${base}/metrics`)
      assert.include(metrics.body, `room_assignment_releases_total{reason="released_by_admin"} 2`)
    }).pipe(Effect.scoped))

  it.live("moves a room in use to a named gateway, or where the balancer chooses; new requests follow it", () =>
    Effect.gen(function*() {
      const logs = auditLog()
      const { api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true", AVAILABLE_JANUS_SERVERS: "gxy1,gxy2,gxy3" }, logs.logger)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200), { janus: "gxy1" })
      expectStatus(yield* api.put("/users/u1", { room: 2171, janus: "gxy1", session: 1, rfid: "u1-1" }), 200)

      assert.deepStrictEqual(expectStatus(yield* api.post("/admin/assignments/2171/reassign", { gateway: "gxy3" }), 200), {
        room: 2171, state: "assigned", gateway: "gxy3", previous_gateway: "gxy1", region: null, sessions: 1
      })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200), { janus: "gxy3" })
      const row = yield* sql<{ gateway_name: string; users: number }>(
        "SELECT a.gateway_name, a.users FROM room_server_assignments a JOIN rooms r ON r.id = a.room_id WHERE r.room = '2171'"
      )
      assert.deepStrictEqual(row, [{ gateway_name: "gxy3", users: 1 }])
      assert.deepInclude(expectStatus(yield* api.get("/admin/rooms/2171/machine"), 200).history.at(-1), {
        from: "assigned", event: "REASSIGN.REQUESTED", to: "assigned", gateway: "gxy3", sessions: 1
      })

      // no gateway named: the balancer chooses, avoiding the room's own (gxy1 and gxy2 are empty, gxy1 comes first)
      assert.deepInclude(expectStatus(yield* api.post("/admin/assignments/2171/reassign", {}), 200), { gateway: "gxy1", previous_gateway: "gxy3" })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200), { janus: "gxy1" })
      assert.deepStrictEqual(
        expectStatus(yield* api.get("/admin/rooms/2171/machine"), 200).history.slice(-2).map((t: { event: string; to: string; gateway: string }) => `${t.event} ${t.to} ${t.gateway}`),
        ["REASSIGN.REQUESTED assigning gxy3", "BALANCER.DONE assigned gxy1"]
      )

      // what cannot be done
      expectStatus(yield* api.patch("/admin/gateways/gxy2", { draining: true }), 200)
      assert.deepStrictEqual(expectStatus(yield* api.post("/admin/assignments/2171/reassign", { gateway: "gxy2" }), 409), {
        error: "gateway gxy2 is draining: it takes no rooms"
      })
      assert.deepStrictEqual(expectStatus(yield* api.post("/admin/assignments/2171/reassign", { gateway: "gxy9" }), 409), {
        error: "gateway gxy9 is not in AVAILABLE_JANUS_SERVERS: it takes no rooms"
      })
      assert.deepStrictEqual(expectStatus(yield* api.post("/admin/assignments/2171/reassign", { gateway: "gxy99" }), 400), {
        error: "gateway: no gateway named gxy99"
      })
      expectStatus(yield* api.patch("/admin/gateways/gxy3", { enabled: false }), 200)
      assert.deepStrictEqual(expectStatus(yield* api.post("/admin/assignments/2171/reassign", {}), 409), {
        error: "no other gateway can take room 2171 now"
      })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200), { janus: "gxy1" }, "a refused move leaves the room where it is")
      assert.include(expectStatus(yield* api.post("/admin/assignments/2171/reassign", { gateway: "gxy1", colour: "red" }), 400).error, "colour")
      expectStatus(yield* api.post("/admin/assignments/2171/reassign", "{}", { "content-type": "text/plain" }), 415)
      expectStatus(yield* api.post("/admin/assignments/2172/reassign", {}), 404)
      expectStatus(yield* api.post("/admin/assignments/999/reassign", {}), 404)

      const moves = logs.find("Admin change").filter((l) => l.action === "assignment.reassign")
      assert.deepStrictEqual(moves.map((l) => [l.subject, l.room, JSON.parse(String(l.changes))]), [
        ["anonymous", "2171", { from: "gxy1", to: "gxy3", gateway: "gxy3" }],
        ["anonymous", "2171", { from: "gxy3", to: "gxy1" }]
      ])
      assert.deepInclude(logs.find("Moved room to another gateway")[0], { room_id: "2171", gateway_name: "gxy1", reason: "requested by admin" })
    }).pipe(Effect.scoped))

  it.live("a draining room is not moved, and legacy mode has no assignments to change", () =>
    Effect.gen(function*() {
      const scale = yield* serviceOnFreshDatabase({ SCALE: "true" })
      expectStatus(yield* scale.api.put("/users/u1", { room: 2171, janus: "gxy5", session: 1, rfid: "u1-1" }), 200)
      yield* scale.api.post("/event", { type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", id: "u1-1" } } })
      assert.deepStrictEqual(expectStatus(yield* scale.api.post("/admin/assignments/2171/reassign", { gateway: "gxy2" }), 409), {
        error: "room 2171 is draining (nobody in it): release it instead"
      })
      const legacy = yield* serviceOnFreshDatabase()
      assert.deepStrictEqual(expectStatus(yield* legacy.api.post("/admin/assignments/2171/release", {}), 409), {
        error: "rooms have no assignments in legacy mode (SCALE=false)"
      })
      assert.deepStrictEqual(expectStatus(yield* legacy.api.get("/admin/assignments"), 200), { assignments: [], next_cursor: null })
    }).pipe(Effect.scoped))
})
