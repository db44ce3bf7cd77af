// Admin endpoints: gateways and rooms, whose changes take effect at once.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { backend } from "../support/database.ts"
import { type Reply, serviceOnFreshDatabase } from "../support/service.ts"

const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

describe(`admin: gateways (${backend})`, () => {
  it.live("lists, creates and updates gateways; duplicates and unknown names are refused", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", AVAILABLE_JANUS_SERVERS: "gxy1,gxy13" })
      assert.strictEqual(expectStatus(yield* api.get("/admin/gateways"), 200).length, 12)
      const created = expectStatus(yield* api.post("/admin/gateways", { name: "gxy13", capacity: 50, region: "EU" }), 201)
      assert.deepStrictEqual(created, { name: "gxy13", description: "", capacity: 50, region: "EU", enabled: true, draining: false, online: null })
      expectStatus(yield* api.post("/admin/gateways", { name: "gxy13" }), 409)
      assert.match(expectStatus(yield* api.post("/admin/gateways", { name: "bad name!" }), 400).error, /name/)
      assert.match(expectStatus(yield* api.post("/admin/gateways", { name: "gxy14", capacity: 0 }), 400).error, /capacity/)
      assert.match(expectStatus(yield* api.post("/admin/gateways", { name: "gxy14", colour: "red" }), 400).error, /colour: is not a known field/)

      // Draining gxy1 sends new rooms to gxy13 at once, without a restart.
      expectStatus(yield* api.patch("/admin/gateways/gxy1", { draining: true }), 200)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200), { janus: "gxy13" })
      const updated = expectStatus(yield* api.patch("/admin/gateways/gxy13", { capacity: null, region: null }), 200)
      assert.deepInclude(updated, { capacity: null, region: null })
      expectStatus(yield* api.patch("/admin/gateways/nope", { enabled: false }), 404)
    }).pipe(Effect.scoped))
})

describe(`admin: rooms (${backend})`, () => {
  it.live("creates rooms with a join code, updates and removes them; the catalog follows at once", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase()
      const room = expectStatus(yield* api.post("/admin/rooms", { room: 5000, name: "Lesson", default_gateway: "gxy3", region: "IL" }), 201)
      assert.match(room.join_code, /^[0-9A-Z]{6}$/)
      assert.deepInclude(room, { room: 5000, name: "Lesson", default_gateway: "gxy3", region: "IL", disabled: false })
      assert.deepStrictEqual(expectStatus(yield* api.get("/admin/rooms/5000"), 200), room)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 5000 }), 200), { janus: "gxy3" })

      expectStatus(yield* api.post("/admin/rooms", { room: 5000, name: "Again" }), 409)
      assert.match(expectStatus(yield* api.post("/admin/rooms", { room: 5001, name: "X", default_gateway: "gxy99" }), 400).error, /default_gateway: no gateway named gxy99/)
      assert.match(expectStatus(yield* api.post("/admin/rooms", { room: 5001, name: "" }), 400).error, /name/)

      const moved = expectStatus(yield* api.patch("/admin/rooms/5000", { default_gateway: "gxy4", name: "Lesson 2" }), 200)
      assert.deepInclude(moved, { default_gateway: "gxy4", name: "Lesson 2", join_code: room.join_code })
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 5000 }), 200), { janus: "gxy4" })

      expectStatus(yield* api.delete("/admin/rooms/5000"), 200)
      expectStatus(yield* api.get("/admin/rooms/5000"), 404)
      expectStatus(yield* api.post("/v2/room_server", { room: 5000 }), 404)
      expectStatus(yield* api.patch("/admin/rooms/5000", { name: "gone" }), 404)
      assert.strictEqual(expectStatus(yield* api.get("/admin/rooms"), 200).length, 12)
    }).pipe(Effect.scoped))

  it.live("shows a room's machine: state, gateway, sessions and its transition history", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      expectStatus(yield* api.put("/users/u", { room: 2171, janus, session: 1, rfid: "u-1" }), 200)
      const machine = expectStatus(yield* api.get("/admin/rooms/2171/machine"), 200)
      assert.deepInclude(machine, { room: 2171, state: "assigned", gateway: janus, sessions: 1 })
      assert.deepStrictEqual(
        machine.history.map((t: { from: string; event: string; to: string; sessions: number }) => `${t.from}→${t.to} ${t.event} ${t.sessions}`),
        ["idle→assigning SERVER.REQUESTED 0", "assigning→assigned BALANCER.DONE 0", "assigned→assigned SESSION.JOINED 1"]
      )
      expectStatus(yield* api.get("/admin/rooms/999/machine"), 404)
    }).pipe(Effect.scoped))

  it.live("reloads a room whose rows were edited by hand: the machine reports what is stored", () =>
    Effect.gen(function*() {
      const { api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      expectStatus(yield* api.put("/users/u", { room: 2171, janus, session: 1, rfid: "u-1" }), 200)
      // an operator ends the session in the database, behind the service's back
      yield* sql("UPDATE sessions SET removed_at = now() WHERE removed_at IS NULL")
      assert.strictEqual(expectStatus(yield* api.get("/admin/rooms/2171/machine"), 200).sessions, 1)
      const reloaded = expectStatus(yield* api.post("/admin/rooms/2171/reload", {}), 200)
      assert.deepInclude(reloaded, { room: 2171, gateway: janus, sessions: 0 })
      expectStatus(yield* api.post("/admin/rooms/999/reload", {}), 404)
    }).pipe(Effect.scoped))
})

describe(`the room catalog and edits made by hand (${backend})`, () => {
  it.live("a room renamed, added or removed in the database, or its gateway disabled there, shows in /groups without a restart", () =>
    Effect.gen(function*() {
      const { api, sql } = yield* serviceOnFreshDatabase()
      const listed = Effect.map(api.get("/groups"), (r) =>
        (expectStatus(r, 200).rooms as ReadonlyArray<{ room: number; description: string; janus: string }>).map((g) => `${g.room} ${g.description} ${g.janus}`))
      /** Looks until `check` holds (the catalog looks every 5 s; a ceiling of ~30 s). */
      const until = (check: (rooms: ReadonlyArray<string>) => boolean) =>
        Effect.flatMap(listed, (rooms) => (check(rooms) ? Effect.succeed(rooms) : Effect.fail(rooms))).pipe(
          Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 150 })
        )
      assert.include(yield* listed, "2171 Room 1 gxy1")
      // edits that leave updated_at as it was, as an operator's would
      yield* sql("UPDATE rooms SET name = 'Renamed by hand' WHERE room = '2171'")
      yield* sql("INSERT INTO rooms (room, name, join_code, default_gateway_id) SELECT '9001', 'Added by hand', 'HAND01', id FROM gateways WHERE name = 'gxy3'")
      yield* sql("DELETE FROM rooms WHERE room = '2172'")
      const after = yield* until((rooms) => rooms.includes("2171 Renamed by hand gxy1") && rooms.includes("9001 Added by hand gxy3") && !rooms.some((r) => r.startsWith("2172 ")))
      assert.lengthOf(after, 12)
      // nothing changed since: the same list
      assert.deepStrictEqual(yield* listed, after)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 9001 }), 200), { janus: "gxy3" })
      yield* sql("UPDATE gateways SET enabled = false WHERE name = 'gxy3'")
      // legacy mode answers a room's default gateway only while it is enabled
      yield* Effect.flatMap(api.post("/v2/room_server", { room: 9001 }), (r) => (r.status === 200 ? Effect.fail(r) : Effect.succeed(r))).pipe(
        Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 150 })
      )
    }).pipe(Effect.scoped))
})

describe(`admin: values the database could not store (${backend})`, () => {
  it.live("a room 2^31 is a room like any other (ids are text); 2^53 and NUL characters are 400 and store nothing", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      // what once answered 500, saved the row and bricked the catalog
      const big = expectStatus(yield* api.post("/admin/rooms", { room: 2147483648, name: "big" }), 201)
      assert.strictEqual(big.room, 2147483648)
      expectStatus(yield* api.post("/admin/rooms", { room: "9007199254740991", name: "biggest" }), 201)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: 2147483648 }), 200), { janus: "gxy1" })
      expectStatus(yield* api.patch("/admin/gateways/gxy2", { enabled: false }), 200)
      expectStatus(yield* api.patch("/admin/rooms/2147483648", { name: "still big" }), 200)
      const refused: ReadonlyArray<readonly [string, string, unknown, RegExp]> = [
        ["POST", "/admin/rooms", { room: 9007199254740992, name: "too big" }, /room: must be a positive integer/],
        ["POST", "/admin/rooms", { room: 6000, name: "nul\u0000name" }, /name: must not contain NUL characters/],
        ["POST", "/admin/rooms", { room: 6001, name: "x", region: "\ud800" }, /region: must be valid Unicode/],
        ["POST", "/admin/rooms", { room: 6002, name: "x", extra: { "\u0000": 1 } }, /extra: key .*NUL/],
        ["POST", "/admin/gateways", { name: "gxy20", capacity: 2147483648 }, /capacity/],
        ["POST", "/admin/gateways", { name: "gxy21", description: "a\u0000b" }, /description: must not contain NUL/],
        ["PATCH", "/admin/gateways/gxy3", { region: "IL\u0000" }, /region: must not contain NUL/]
      ]
      for (const [method, path, body, message] of refused) {
        const reply = method === "POST" ? yield* api.post(path, body) : yield* api.patch(path, body)
        assert.strictEqual(reply.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(reply.body)}`)
        assert.match(reply.body.error, message)
      }
      const rooms = expectStatus(yield* api.get("/admin/rooms"), 200).map((r: { room: unknown }) => r.room)
      assert.includeMembers(rooms, [2147483648, 9007199254740991])
      assert.notIncludeMembers(rooms, [6000, 6001, 6002])
      assert.isUndefined(expectStatus(yield* api.get("/admin/gateways"), 200).find((g: { name: string }) => g.name === "gxy20" || g.name === "gxy21"))
    }).pipe(Effect.scoped))
})
