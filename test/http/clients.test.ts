// The client endpoints through HTTP against the real database, including
// every curl example of the seeds in the configuration it was written for.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import { backend } from "../support/database.ts"
import { collectLogs, type Reply, serviceOnFreshDatabase } from "../support/service.ts"




const roomServer = (body: unknown) => ({ path: "/v2/room_server", body })

const eventually = <A, E2, R>(check: Effect.Effect<A, E2, R>) =>
  Effect.retry(check, { schedule: Schedule.spaced(Duration.millis(100)), times: 80 })

const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

const leaving = (feed: number, gateway: string) => ({
  emitter: gateway,
  type: 64,
  event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", room: 2171, id: String(feed) } }
})

describe(`POST /v2/room_server, legacy mode (${backend})`, () => {
  it.live("answers the room's default gateway, ignores geo, and writes nothing", () =>
    Effect.gen(function*() {
      const { api, sql } = yield* serviceOnFreshDatabase()
      const first = roomServer({ room: 2171 })
      assert.deepStrictEqual(expectStatus(yield* api.post(first.path, first.body), 200), { janus: "gxy1" })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171, geo: { country_code: "US" } }), 200), { janus: "gxy1" })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: "2172" }), 200), { janus: "gxy2" })
      assert.deepStrictEqual(yield* sql("SELECT * FROM room_server_assignments"), [])
      assert.deepStrictEqual(yield* sql("SELECT * FROM room_transitions"), [])
    }).pipe(Effect.scoped))

  it.live("404 for an unknown or disabled room", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase()
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 99 }), 404), { error: "room 99 not found" })
      expectStatus(yield* api.patch("/admin/rooms/2173", { disabled: true }), 200)
      expectStatus(yield* api.post("/v2/room_server", { room: 2173 }), 404)
    }).pipe(Effect.scoped))

  it.live("500 with a clear error and a log line when the default gateway is missing or disabled", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const { api } = yield* serviceOnFreshDatabase({}, logs.logger)
      expectStatus(yield* api.patch("/admin/gateways/gxy1", { enabled: false }), 200)
      const reply = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 500)
      assert.match(reply.error, /gateway not found for room 2171 in legacy mode/)
      const line = logs.lines.find((l) => l.includes("Gateway not found for room in legacy mode (SCALE=false)"))
      assert.isDefined(line)
      assert.include(line, "room_id=2171")
      assert.include(line, "default_gateway_id=")

      expectStatus(yield* api.post("/admin/rooms", { room: 4000, name: "No gateway" }), 201)
      expectStatus(yield* api.post("/v2/room_server", { room: 4000 }), 500)
    }).pipe(Effect.scoped))
})

describe(`POST /v2/room_server, scale mode (${backend})`, () => {
  it.live("the first user reserves a gateway, the second gets the same one (sticky)", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const { api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true" }, logs.logger)
      const first = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      const second = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      assert.deepStrictEqual(second, first)
      const rows = yield* sql<{ gateway_name: string }>("SELECT gateway_name FROM room_server_assignments")
      assert.deepStrictEqual(rows.map((r) => r.gateway_name), [first.janus])
      const assigned = logs.lines.filter((l) => l.includes("Assigned room to server"))
      assert.strictEqual(assigned.length, 1)
      for (const field of ["room_id=2171", `gateway_name=${first.janus}`, "country_code=", "regional_match=false", "stage="]) {
        assert.include(assigned[0], field)
      }
      // and counted, for Prometheus
      const metrics = yield* api.get("/metrics")
      assert.strictEqual(metrics.status, 200)
      assert.match(String(metrics.body), /room_assignments_total\{stage="unreserved"\} [1-9]/)
    }).pipe(Effect.scoped))

  it.live("regional routing: IL first → gxy1, US second → gxy1 (sticky), after everyone leaves a US user → gxy3", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", SERVER_REGIONS: "IL:gxy1,gxy2;US:gxy3,gxy4", DRAIN_GRACE: "300ms" })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171, geo: { country_code: "IL" } }), 200), { janus: "gxy1" })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171, geo: { country_code: "US" } }), 200), { janus: "gxy1" })
      expectStatus(yield* api.put("/users/il-user", { room: 2171, janus: "gxy1", session: 1, rfid: 101, display: "IL user" }), 200)
      expectStatus(yield* api.put("/users/us-user", { room: 2171, janus: "gxy1", session: 2, rfid: 102, display: "US user" }), 200)
      // everyone leaves; after the drain grace the assignment is gone
      expectStatus(yield* api.post("/event", [leaving(101, "gxy1"), leaving(102, "gxy1")]), 200)
      yield* eventually(Effect.flatMap(api.get("/admin/rooms/2171/machine"), (r) => (r.body.state === "idle" ? Effect.void : Effect.fail(r.body.state))))
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171, geo: { country_code: "us" } }), 200), { janus: "gxy3" })
    }).pipe(Effect.scoped))

  it.live("seed 000: /groups keeps the default gateway while /rooms shows the live one", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "300ms" })
      const groupOf = (reply: Reply) => reply.body.rooms.find((r: { room: number }) => r.room === 2171)
      // 1. the room's default gateway is gxy1; nobody is in it
      assert.strictEqual(groupOf(yield* api.get("/groups")).janus, "gxy1")
      assert.deepStrictEqual(expectStatus(yield* api.get("/rooms"), 200), [])
      // 2. gxy1…gxy4 are being drained by an admin, so the balancer picks gxy5
      for (const g of ["gxy1", "gxy2", "gxy3", "gxy4"]) expectStatus(yield* api.patch(`/admin/gateways/${g}`, { draining: true }), 200)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200), { janus: "gxy5" })
      // 3. a user enters: /groups unchanged, /rooms shows gxy5
      expectStatus(yield* api.put("/users/u1", { room: 2171, janus: "gxy5", session: 7, rfid: "70", display: "User 1", question: true }), 200)
      assert.strictEqual(groupOf(yield* api.get("/groups?with_num_users=true")).janus, "gxy1")
      assert.strictEqual(groupOf(yield* api.get("/groups?with_num_users=true")).num_users, 1)
      const live = expectStatus(yield* api.get("/rooms"), 200)
      assert.strictEqual(live.length, 1)
      assert.deepInclude(live[0], { room: 2171, janus: "gxy5", description: "Room 1", num_users: 1, questions: true })
      assert.deepInclude(live[0].users[0], { id: "u1", display: "User 1", janus: "gxy5", question: true })
      assert.deepStrictEqual(expectStatus(yield* api.get("/room/2171"), 200), live[0])
      assert.deepStrictEqual(expectStatus(yield* api.get("/rooms/2171"), 200), live[0])
      // 4. the user leaves: the assignment is deleted after the grace
      expectStatus(yield* api.post("/event", leaving(70, "gxy5")), 200)
      yield* eventually(Effect.flatMap(api.get("/admin/rooms/2171/machine"), (r) => (r.body.state === "idle" ? Effect.void : Effect.fail(r.body.state))))
      assert.strictEqual(groupOf(yield* api.get("/groups")).janus, "gxy1")
      assert.deepStrictEqual(expectStatus(yield* api.get("/rooms"), 200), [])
      // the room exists with nobody in it: gxydb-api answers it with no users
      assert.deepInclude(expectStatus(yield* api.get("/room/2171"), 200), { room: 2171, janus: "gxy1", num_users: 0, users: [] })
      // 5. the drain is over: a new user gets a new assignment (here gxy1)
      for (const g of ["gxy1", "gxy2", "gxy3", "gxy4"]) expectStatus(yield* api.patch(`/admin/gateways/${g}`, { draining: false }), 200)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200), { janus: "gxy1" })
    }).pipe(Effect.scoped))

  it.live("GET /rooms carries an ETag: a poller that has the listing gets a 304, a change gives a new one; gzip when accepted", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const get = (headers: Record<string, string>) =>
        Effect.promise(async () => {
          const r = await fetch(`${base}/rooms`, { headers })
          return { status: r.status, etag: r.headers.get("etag"), encoding: r.headers.get("content-encoding"), text: await r.text() }
        })
      expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      expectStatus(yield* api.put("/users/u1", { room: 2171, janus: "gxy1", session: 7, rfid: "70", display: "User 1" }), 200)
      const first = yield* get({ "accept-encoding": "identity" })
      assert.strictEqual(first.status, 200)
      assert.match(first.etag ?? "", /^".+"$/)
      assert.isNull(first.encoding)
      assert.strictEqual(JSON.parse(first.text)[0].users[0].id, "u1")
      const zipped = yield* get({ "accept-encoding": "gzip" })
      assert.strictEqual(zipped.encoding, "gzip")
      assert.strictEqual(zipped.etag, first.etag)
      assert.strictEqual(zipped.text, first.text, "the same listing, decompressed")
      const unchanged = yield* get({ "if-none-match": first.etag! })
      assert.deepStrictEqual([unchanged.status, unchanged.etag, unchanged.text], [304, first.etag, ""])
      // a second user joins: the listing changes at once, and so does its ETag
      expectStatus(yield* api.put("/users/u2", { room: 2171, janus: "gxy1", session: 8, rfid: "80", display: "User 2" }), 200)
      const changed = yield* get({ "if-none-match": first.etag! })
      assert.strictEqual(changed.status, 200)
      assert.notStrictEqual(changed.etag, first.etag)
      assert.strictEqual(JSON.parse(changed.text)[0].users.length, 2)
    }).pipe(Effect.scoped))

  it.live("503 when no gateway is online, 404 for an unknown room", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      for (let i = 1; i <= 12; i++) expectStatus(yield* api.patch(`/admin/gateways/gxy${i}`, { enabled: false }), 200)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 503), { error: "no gateway available" })
      expectStatus(yield* api.post("/v2/room_server", { room: 12345 }), 404)
    }).pipe(Effect.scoped))
})

describe(`GET /groups (${backend})`, () => {
  it.live("lists enabled rooms sorted by description, with live user counts when asked, and sees admin changes at once", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase()
      const before = expectStatus(yield* api.get("/groups"), 200).rooms
      assert.strictEqual(before.length, 12)
      const names = before.map((r: { description: string }) => r.description)
      // natural order: "Room 2" before "Room 10"
      assert.deepStrictEqual(names.slice(0, 3), ["Room 1", "Room 2", "Room 3"])
      assert.deepStrictEqual(names, [...names].sort(new Intl.Collator("en", { numeric: true }).compare))
      assert.isTrue(before.every((r: { num_users: number }) => r.num_users === 0))

      expectStatus(yield* api.post("/admin/rooms", { room: 3000, name: "A first room", default_gateway: "gxy6" }), 201)
      expectStatus(yield* api.patch("/admin/rooms/2175", { disabled: true }), 200)
      expectStatus(yield* api.put("/users/a", { room: 3000, janus: "gxy6", session: 1, rfid: "a-1" }), 200)
      expectStatus(yield* api.put("/users/b", { room: 3000, janus: "gxy6", session: 2, rfid: "b-1", question: true }), 200)
      const after = expectStatus(yield* api.get("/groups?with_num_users=true"), 200).rooms
      assert.deepStrictEqual(after[0], {
        room: 3000, janus: "gxy6", description: "A first room", num_users: 2, questions: true, region: "", extra: null
      })
      assert.isUndefined(after.find((r: { room: number }) => r.room === 2175))
      assert.strictEqual(expectStatus(yield* api.get("/groups"), 200).rooms[0].num_users, 0)
    }).pipe(Effect.scoped))
})

describe(`bad input never yields a 5xx and writes nothing (${backend})`, () => {
  const cases: ReadonlyArray<readonly [string, string | unknown, number, RegExp, Record<string, string>?]> = [
    ["malformed JSON", "{\"room\": ", 400, /not valid JSON/],
    ["not an object", "[2171]", 400, /JSON object/],
    ["room as a boolean", { room: true }, 400, /room: must be a positive integer/],
    ["room as an object", { room: { id: 2171 } }, 400, /room: /],
    ["missing room", { geo: { country_code: "IL" } }, 400, /room: is required/],
    ["negative room", { room: -5 }, 400, /room: must be a positive integer/],
    ["zero room", { room: 0 }, 400, /room: must be a positive integer/],
    ["huge room", { room: 1e20 }, 400, /room: must be a positive integer/],
    ["huge room as text", { room: "99999999999999999999" }, 400, /room: must be a positive integer/],
    ["fractional room", { room: 2171.5 }, 400, /room: must be a positive integer/],
    ["room as words", { room: "twenty one" }, 400, /room: must be a positive integer or a string id/],
    ["room id too long", { room: "r".repeat(65) }, 400, /room: must be a positive integer or a string id/],
    ["a 1 MB body", JSON.stringify({ room: 2171, pad: "x".repeat(1024 * 1024) }), 413, /too large/],
    // client bodies are JSON whatever their content type (as gxydb-api reads them)
    ["a form body", "room=2171", 400, /not valid JSON/, { "content-type": "application/x-www-form-urlencoded" }]
  ]

  it.live("each malformed request gets a 4xx naming the problem", () =>
    Effect.gen(function*() {
      const { api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      for (const [label, body, status, message, headers] of cases) {
        const reply = yield* api.post("/v2/room_server", body, headers)
        assert.strictEqual(reply.status, status, `${label}: ${JSON.stringify(reply.body)}`)
        assert.match(reply.body.error, message, label)
      }
      assert.deepStrictEqual(yield* sql("SELECT * FROM room_server_assignments"), [])
      assert.deepStrictEqual(yield* sql("SELECT * FROM room_transitions"), [])
      // and the service is unharmed
      expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
    }).pipe(Effect.scoped))

  it.live("bad paths and queries are 4xx too", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase()
      assert.match(expectStatus(yield* api.get("/room/a%20b"), 400).error, /room: must be a positive integer or a string id/)
      assert.match(expectStatus(yield* api.get("/room/0"), 400).error, /room/)
      assert.match(expectStatus(yield* api.get("/room/abc"), 404).error, /room abc not found/)
      // gxydb-api counts users only for with_num_users=true; anything else is false
      assert.isTrue(expectStatus(yield* api.get("/groups?with_num_users=maybe"), 200).rooms.every((r: { num_users: number }) => r.num_users === 0))
      assert.match(expectStatus(yield* api.get("/no/such/path"), 404).error, /no such endpoint/)
    }).pipe(Effect.scoped))
})
