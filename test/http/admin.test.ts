// Admin endpoints: gateways and rooms, whose changes take effect at once.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
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
      expectStatus(yield* api.put("/users/u", { room: 2171, janus, session: 1 }), 200)
      const machine = expectStatus(yield* api.get("/admin/rooms/2171/machine"), 200)
      assert.deepInclude(machine, { room: 2171, state: "assigned", gateway: janus, sessions: 1 })
      assert.deepStrictEqual(machine.history.map((t: { from: string; to: string }) => `${t.from}→${t.to}`), ["idle→assigning", "assigning→assigned"])
      expectStatus(yield* api.get("/admin/rooms/999/machine"), 404)
    }).pipe(Effect.scoped))
})
