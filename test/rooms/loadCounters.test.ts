// The gateways' load counters, kept by the rooms' own steps: whatever a
// sequence of first requests, joins, leaves, drains, failovers and
// reservation expiries does, each counter equals the sum over its gateway's
// assignments of max(users, AVG_ROOM_OCCUPANCY, a young room's reservation) — computed here from the
// assignment rows, not by the code under test — and the reconciliation finds
// no drift.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import fc from "fast-check"
import { GatewayStore } from "../../src/db/gatewayStore.ts"
import { Rooms } from "../../src/rooms/roomClient.ts"
import { backend, freshDatabase } from "../support/database.ts"
import { query, RoomClock, roomsOn } from "../support/rooms.ts"
import { eventually } from "../support/service.ts"

const average = 10
const rooms = ["2171", "2172", "2173", "2174"]
const gateways = ["gxy1", "gxy2", "gxy3"]

type Op =
  | { readonly kind: "request"; readonly room: string }
  | { readonly kind: "join" | "leave"; readonly room: string; readonly session: number; readonly gateway: string }
  | { readonly kind: "down"; readonly room: string; readonly gateway: string }
  | { readonly kind: "wait" }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("request" as const), room: fc.constantFrom(...rooms) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constantFrom("join" as const, "leave" as const),
      room: fc.constantFrom(...rooms),
      // up to 14 sessions a room: rooms cross AVG_ROOM_OCCUPANCY both ways
      session: fc.integer({ min: 1, max: 14 }),
      gateway: fc.constantFrom(...gateways)
    })
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("down" as const), room: fc.constantFrom(...rooms), gateway: fc.constantFrom(...gateways) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "wait" as const }) }
)

/**
 * Each gateway's counter, and the sum the assignment rows call for: each
 * room max(users, average, its reservation while young), the reservation
 * written out from its stored context as docs/balancer.md states it — its
 * expected size less its spread, while placed by the balancer under 5
 * minutes ago and below that size.
 */
const countersAndSums = Effect.all({
  counters: query<{ gateway_name: string; load: number }>(`SELECT gateway_name, load FROM gateway_loads WHERE load <> 0 ORDER BY gateway_name`),
  assigned: query<{ gateway_name: string; users: number; context: { expected?: number; spread?: number; peak?: number; placedAt?: number } | null }>(
    `SELECT a.gateway_name, a.users, m.snapshot->'context' AS context FROM room_server_assignments a LEFT JOIN room_snapshots m USING (room_id)`
  )
}).pipe(Effect.map(({ counters, assigned }) => {
  const expected = new Map<string, number>()
  for (const a of assigned) {
    const c = a.context ?? {}
    const relied = Math.max(0, (c.expected ?? 0) - (c.spread ?? 0))
    const young = (c.placedAt ?? 0) > 0 && Date.now() - c.placedAt! < 5 * 60_000 && (c.peak ?? 0) < relied
    expected.set(a.gateway_name, (expected.get(a.gateway_name) ?? 0) + Math.max(a.users, average, young ? relied : 0))
  }
  return {
    counters: Object.fromEntries(counters.map((c) => [c.gateway_name, c.load])),
    expected: Object.fromEntries([...expected].filter(([, l]) => l !== 0).sort(([a], [b]) => a.localeCompare(b)))
  }
}))

describe(`gateway load counters (${backend})`, () => {
  it.live("any sequence of room steps leaves each counter equal to the sum over its gateway's assignments", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      yield* Effect.gen(function*() {
        const r = yield* Rooms
        const store = yield* GatewayStore
        const run = (op: Op) => {
          switch (op.kind) {
            case "request":
              return Effect.ignore(r.requestServer(op.room))
            case "join":
              return Effect.ignore(r.changeSession(op.room, "joined", `s${op.session}`, op.gateway))
            case "leave":
              return Effect.ignore(r.changeSession(op.room, "left", `s${op.session}`, op.gateway))
            case "down":
              return Effect.ignore(r.gatewayDown(op.room, op.gateway))
            case "wait":
              // past the drain grace and the reservation TTL: timers fire
              return Effect.sleep(Duration.millis(1_100))
          }
        }
        const sequences = fc.sample(fc.array(opArb, { minLength: 10, maxLength: 40 }), { seed: 20261207, numRuns: 12 })
        for (const ops of sequences) {
          // rooms run concurrently, as they do in the service
          yield* Effect.forEach(ops, run, { concurrency: 4, discard: true })
          const { counters, expected } = yield* countersAndSums
          assert.deepStrictEqual(counters, expected, JSON.stringify(ops))
          assert.deepStrictEqual(yield* store.reconcile, [], "no drift")
        }
      }).pipe(Effect.provide(roomsOn(db, { AVG_ROOM_OCCUPANCY: String(average), DRAIN_GRACE: "300ms", ASSIGNMENT_TTL: "1s" })))
    }).pipe(Effect.scoped), 300_000)

  it.live("a room that held 14 users in each of its last two lessons reserves 14 on its gateway when placed again, until its users come", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      yield* Effect.gen(function*() {
        const r = yield* Rooms
        const loadOn = (gateway: string) =>
          Effect.map(query<{ load: number }>(`SELECT load FROM gateway_loads WHERE gateway_name = '${gateway}'`), (rows) => rows[0]?.load ?? 0)
        const lesson = (users: number) =>
          Effect.gen(function*() {
            const { gateway } = yield* r.requestServer("2171")
            for (let i = 1; i <= users; i++) yield* r.changeSession("2171", "joined", `s${i}`, gateway)
            assert.strictEqual(yield* loadOn(gateway), Math.max(users, average))
            for (let i = 1; i <= users; i++) yield* r.changeSession("2171", "left", `s${i}`, gateway)
            // past the drain grace: released, and the room learns its size
            yield* Effect.sleep(Duration.millis(800))
            assert.strictEqual(yield* loadOn(gateway), 0)
            return gateway
          })
        yield* lesson(14)
        // one lesson shows nothing: placed again, it reserves the average
        const second = yield* r.requestServer("2171")
        assert.strictEqual(yield* loadOn(second.gateway), average)
        yield* r.releaseAssignment("2171")
        yield* lesson(14)
        const third = yield* r.requestServer("2171")
        assert.strictEqual(yield* loadOn(third.gateway), 14, "the size it showed twice, before anyone joined")
        // what operators see (GET /servers, gateway_reserved_load): 4 of the 14 reserved beyond the average
        const row = (yield* (yield* GatewayStore).loads).find((l) => l.gateway === third.gateway)
        assert.deepStrictEqual(row, { gateway: third.gateway, load: 14, rooms: 1, reserved: 4 })
        yield* r.changeSession("2171", "joined", "s1", third.gateway)
        assert.strictEqual(yield* loadOn(third.gateway), 14, "young, and below its size: still 14")
        for (let i = 2; i <= 14; i++) yield* r.changeSession("2171", "joined", `s${i}`, third.gateway)
        for (let i = 2; i <= 14; i++) yield* r.changeSession("2171", "left", `s${i}`, third.gateway)
        assert.strictEqual(yield* loadOn(third.gateway), average, "it reached its size: its users count again")
        assert.strictEqual((yield* (yield* GatewayStore).loads).find((l) => l.gateway === third.gateway)?.reserved, 0)
        assert.deepStrictEqual(yield* (yield* GatewayStore).reconcile, [], "no drift")
      }).pipe(Effect.provide(roomsOn(db, { AVG_ROOM_OCCUPANCY: String(average), DRAIN_GRACE: "300ms", ASSIGNMENT_TTL: "1m" })))
    }).pipe(Effect.scoped), 120_000)

  it.live("a young room's reservation ends 5 minutes after its placement, by the room's own timer: no message needed", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      yield* Effect.gen(function*() {
        const r = yield* Rooms
        const clock = yield* RoomClock
        const store = yield* GatewayStore
        const loadOn = (gateway: string) =>
          Effect.map(store.loads, (loads) => {
            const row = loads.find((l) => l.gateway === gateway)
            return { load: row?.load ?? 0, reserved: row?.reserved ?? 0 }
          })
        // the room's timers run on the moved clock; its commit follows within moments of real time
        const becomes = (gateway: string, expected: { load: number; reserved: number }) =>
          eventually(Effect.flatMap(loadOn(gateway), (seen) =>
            seen.load === expected.load && seen.reserved === expected.reserved
              ? Effect.void
              : Effect.fail(new Error(`${gateway}: ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`))))
        for (const _ of [1, 2]) {
          const { gateway } = yield* r.requestServer("2171")
          for (let i = 1; i <= 14; i++) yield* r.changeSession("2171", "joined", `s${i}`, gateway)
          for (let i = 1; i <= 14; i++) yield* r.changeSession("2171", "left", `s${i}`, gateway)
          // past the drain grace (30 s): released, and the room learns its size
          yield* clock.adjust(Duration.seconds(31))
          yield* becomes(gateway, { load: 0, reserved: 0 })
        }
        const { gateway } = yield* r.requestServer("2171")
        yield* r.changeSession("2171", "joined", "s1", gateway)
        assert.deepStrictEqual(yield* loadOn(gateway), { load: 14, reserved: 4 }, "young: 14 held, 4 of them beyond the average")
        yield* clock.adjust(Duration.seconds(299))
        yield* Effect.sleep(Duration.millis(200))
        assert.deepStrictEqual(yield* loadOn(gateway), { load: 14, reserved: 4 }, "a second before its youth ends: still held")
        yield* clock.adjust(Duration.seconds(1))
        yield* becomes(gateway, { load: average, reserved: 0 })
        assert.deepStrictEqual(yield* store.reconcile, [], "no drift")
      }).pipe(Effect.provide(roomsOn(db, { AVG_ROOM_OCCUPANCY: String(average), DRAIN_GRACE: "30s", ASSIGNMENT_TTL: "10m" }, { testClock: true })))
    }).pipe(Effect.scoped), 120_000)
})
