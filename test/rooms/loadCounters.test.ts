// The gateways' load counters, kept by the rooms' own steps: whatever a
// sequence of first requests, joins, leaves, drains, failovers and
// reservation expiries does, each counter equals the sum over its gateway's
// assignments of max(users, AVG_ROOM_OCCUPANCY) — computed here from the
// assignment rows, not by the code under test — and the reconciliation finds
// no drift.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import fc from "fast-check"
import { GatewayStore } from "../../src/db/gatewayStore.ts"
import { Rooms } from "../../src/rooms/rooms.ts"
import { backend, freshDatabase } from "../support/database.ts"
import { query, roomsOn } from "../support/rooms.ts"

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

/** Each gateway's counter, and the sum the assignment rows call for (max(users, average) each). */
const countersAndSums = Effect.all({
  counters: query<{ gateway_name: string; load: number }>(`SELECT gateway_name, load FROM gateway_loads WHERE load <> 0 ORDER BY gateway_name`),
  assigned: query<{ gateway_name: string; users: number; load: number }>(`SELECT gateway_name, users, load FROM room_server_assignments`)
}).pipe(Effect.map(({ counters, assigned }) => {
  const expected = new Map<string, number>()
  for (const a of assigned) expected.set(a.gateway_name, (expected.get(a.gateway_name) ?? 0) + Math.max(a.users, average))
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
})
