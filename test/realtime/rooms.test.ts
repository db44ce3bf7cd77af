// Seed-003 rooms over HTTP: creation with a generated id and a unique join
// code (also under 1,000 concurrent creates), lookup by code in any case or
// by id with the live users, and bad input refused naming the field.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ask, connect } from "../support/channel.ts"
import { backend } from "../support/database.ts"
import { type Reply, serviceOnFreshDatabase } from "../support/service.ts"

const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

describe(`/api/rooms (${backend})`, () => {
  it.live("creates rooms, finds them by join code (any case) or id with their users, 404 otherwise", () =>
    Effect.gen(function*() {
      const { base, api, sql } = yield* serviceOnFreshDatabase()
      const before = Date.now()
      const room = expectStatus(yield* api.post("/api/rooms/create", { name: "Weekly sync" }), 201).room
      assert.deepStrictEqual(Object.keys(room).sort(), ["createdAt", "id", "joinCode", "name", "requireAccessBeforeJoining", "updatedAt"])
      assert.match(room.id, /^[a-z0-9]{24}$/)
      assert.match(room.joinCode, /^[A-Z0-9]{6}$/)
      assert.isAtLeast(Date.parse(room.createdAt), before - 1000)
      const stored = yield* sql<{ name: string; join_code: string; require_access_before_joining: boolean }>(
        `SELECT name, join_code, require_access_before_joining FROM rooms WHERE room = $1`,
        room.id
      )
      assert.deepStrictEqual(stored, [{ name: "Weekly sync", join_code: room.joinCode, require_access_before_joining: false }])

      for (const code of [room.joinCode, room.joinCode.toLowerCase()]) {
        assert.deepStrictEqual(expectStatus(yield* api.get(`/api/rooms/join/${code}`), 200), { room: { ...room, users: [] } })
      }
      assert.deepStrictEqual(expectStatus(yield* api.get(`/api/rooms/${room.id}`), 200), { room: { ...room, users: [] } })

      const socket = yield* connect(base)
      const joined = yield* ask(socket, "joinRoom", { roomId: room.id, token: "demo-token", userId: "carol", display: "Carol" })
      const users = expectStatus(yield* api.get(`/api/rooms/join/${room.joinCode}`), 200).room.users
      assert.deepStrictEqual(users, [joined.user])
      assert.deepInclude(users[0], { userId: "carol", display: "Carol", roomId: room.id, isMicActive: false, isCamActive: false, isShareScreen: false })

      assert.deepStrictEqual(expectStatus(yield* api.get("/api/rooms/join/ZZZZZZ"), 404), { error: "no room with join code ZZZZZZ" })
      assert.deepStrictEqual(expectStatus(yield* api.get("/api/rooms/nosuchroom"), 404), { error: "room nosuchroom not found" })
      assert.match(expectStatus(yield* api.get("/api/rooms/join/ABC"), 400).error, /joinCode: must be a join code of 6 letters or digits/)
      // every room of the catalog has a join code: the demo rooms too
      const demo = expectStatus(yield* api.get("/api/rooms/2171"), 200).room
      assert.deepInclude(demo, { id: "2171", name: "Room 1" })
      assert.deepStrictEqual(expectStatus(yield* api.get(`/api/rooms/join/${demo.joinCode}`), 200).room.id, "2171")
      // a disabled room is not found
      expectStatus(yield* api.patch(`/admin/rooms/${room.id}`, { disabled: true }), 200)
      expectStatus(yield* api.get(`/api/rooms/${room.id}`), 404)
      expectStatus(yield* api.get(`/api/rooms/join/${room.joinCode}`), 404)
    }).pipe(Effect.scoped))

  it.live("bad bodies are 400 naming the field, and nothing is stored", () =>
    Effect.gen(function*() {
      const { base, api, sql } = yield* serviceOnFreshDatabase()
      const count = Effect.map(sql<{ n: number }>(`SELECT count(*)::int AS n FROM rooms`), (r) => r[0]!.n)
      const before = yield* count
      const cases: ReadonlyArray<readonly [unknown, RegExp]> = [
        [{}, /^invalid request body: name: is required$/],
        [{ name: "" }, /^invalid request body: name: must not be empty$/],
        [{ name: "   " }, /^invalid request body: name: must not be empty$/],
        [{ name: "x".repeat(201) }, /^invalid request body: name: must be at most 200 characters$/],
        [{ name: "a\u0000b" }, /^invalid request body: name: must not contain NUL characters$/],
        [{ name: "\ud800" }, /^invalid request body: name: must be valid Unicode/],
        [{ name: 7 }, /^invalid request body: name: /],
        [{ name: "ok", joinCode: "AAAAAA" }, /^invalid request body: joinCode: is not a known field$/],
        ["[1]", /^invalid request body: /],
        ["{", /^invalid request body: /]
      ]
      for (const [body, expected] of cases) assert.match(expectStatus(yield* api.post("/api/rooms/create", body), 400).error, expected)
      assert.strictEqual(yield* count, before)
      // a name of exactly 200 characters, and one without a JSON content type, are fine
      expectStatus(yield* api.post("/api/rooms/create", { name: "x".repeat(200) }), 201)
      const plain = yield* Effect.promise(() => fetch(`${base}/api/rooms/create`, { method: "POST", body: JSON.stringify({ name: "no content type" }) }))
      assert.strictEqual(plain.status, 201)
    }).pipe(Effect.scoped))

  it.live("1,000 concurrent creates get 1,000 distinct ids and join codes", () =>
    Effect.gen(function*() {
      // all 1,000 at once, none refused by admission control
      const { api, sql } = yield* serviceOnFreshDatabase({ MAX_IN_FLIGHT: "rooms:2000" })
      const created = yield* Effect.forEach(
        Array.from({ length: 1000 }, (_, i) => i),
        (i) => api.post("/api/rooms/create", { name: `Room ${i}` }),
        { concurrency: "unbounded" }
      )
      const rooms = created.map((reply) => expectStatus(reply, 201).room)
      assert.strictEqual(new Set(rooms.map((r) => r.id)).size, 1000)
      assert.strictEqual(new Set(rooms.map((r) => r.joinCode)).size, 1000)
      const stored = yield* sql<{ n: number; codes: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT join_code)::int AS codes FROM rooms WHERE room !~ '^[0-9]+$'`
      )
      assert.deepStrictEqual(stored, [{ n: 1000, codes: 1000 }])
      // each is found by its code
      for (const room of rooms.slice(0, 50)) {
        assert.strictEqual(expectStatus(yield* api.get(`/api/rooms/join/${room.joinCode}`), 200).room.id, room.id)
      }
    }).pipe(Effect.scoped), 120_000)
})
