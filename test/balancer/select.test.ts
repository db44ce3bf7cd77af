// The balancer's promises, checked as properties over generated loads
// against a reference written here from SPEC §4 — brute force over every
// gateway, sharing no code with src/balancer/ — so a wrong capacity rule in
// the balancer cannot also be the rule it is checked with.
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { type Choice, type GatewayLoad, type Policy, type PlacementRequest, rankGateways, selectGateway } from "../../src/balancer/select.ts"

const names = Array.from({ length: 6 }, (_, i) => `gxy${i + 1}`)
const stages = ["pinned", "regional", "unreserved", "any", "overflow"] as const

/**
 * SPEC §4 by brute force: every usable gateway gets the first stage that
 * admits it and its place within that stage, and the ranking is their order.
 */
const reference = (loads: ReadonlyArray<GatewayLoad>, policy: Policy, request: PlacementRequest): Array<Choice> => {
  // a room costs its users, but at least the average (a fresh room reserves the average)
  const need = request.users > policy.avgRoomOccupancy ? request.users : policy.avgRoomOccupancy
  const code = (request.region ?? request.country)?.toUpperCase()
  const pool = policy.regions.find((p) => p.country === code)
  const reservedElsewhere = (name: string) => policy.regions.some((p) => p !== pool && p.gateways.includes(name))
  const entries: Array<{ g: GatewayLoad; stage: number; index: number }> = []
  policy.available.forEach((name, index) => {
    const g = loads.find((l) => l.name === name)
    if (g === undefined || !g.enabled || g.cordoned || g.online === false || name === request.avoid) return
    const hasRoom = g.capacity - g.load >= need
    const inPool = pool !== undefined && pool.gateways.includes(name)
    const stage = policy.pinned.get(request.room) === name ? 0
      : hasRoom && inPool ? 1
      : hasRoom && !reservedElsewhere(name) ? 2
      : hasRoom ? 3
      : 4
    entries.push({ g, stage, index })
  })
  // ratios compared by cross-multiplying, loads as they are
  const before = (a: (typeof entries)[number], b: (typeof entries)[number]) => {
    if (a.stage !== b.stage) return a.stage - b.stage
    const byLoad = policy.strategy === "sequential" && a.stage !== 4
      ? b.g.load - a.g.load
      : a.g.load * b.g.capacity - b.g.load * a.g.capacity
    return byLoad !== 0 ? byLoad : a.index - b.index
  }
  return entries.sort(before).map(({ g, stage }) => {
    const regional = pool !== undefined && pool.gateways.includes(g.name)
    return { gateway: g.name, stage: stages[stage]!, region: regional ? pool.country : g.region, regionalMatch: regional }
  })
}

const gatewayArb = (name: string) =>
  fc.integer({ min: 10, max: 100 }).chain((capacity) =>
    fc.record({
      name: fc.constant(name),
      capacity: fc.constant(capacity),
      // often within a few users of full, where the capacity rule decides
      load: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: capacity - 30, max: capacity - 5 })),
      enabled: fc.constantFrom(true, true, true, false),
      cordoned: fc.constantFrom(false, false, true),
      online: fc.constantFrom(true, false, undefined),
      region: fc.constantFrom(undefined, "EU")
    })) as fc.Arbitrary<GatewayLoad>

const loadsArb = fc.tuple(...names.map(gatewayArb))

const policyArb = fc.record({
  available: fc.shuffledSubarray(names, { minLength: 1 }),
  avgRoomOccupancy: fc.integer({ min: 1, max: 15 }),
  regions: fc.constantFrom([], [{ country: "IL", gateways: ["gxy1", "gxy2"] }, { country: "US", gateways: ["gxy3"] }]),
  pinned: fc.constantFrom(new Map<string, string>(), new Map([["7", "gxy4"]]), new Map([["7", "gxy1"]])),
  strategy: fc.constantFrom("least-loaded" as const, "sequential" as const)
}) as fc.Arbitrary<Policy>

const requestArb = fc.record({
  room: fc.integer({ min: 6, max: 8 }).map(String),
  country: fc.constantFrom(undefined, "IL", "il", "US", "RU"),
  region: fc.constantFrom(undefined, undefined, "US"),
  avoid: fc.constantFrom(undefined, "gxy2"),
  users: fc.constantFrom(0, 0, 12, 25)
}) as fc.Arbitrary<PlacementRequest>

const usable = (g: GatewayLoad, policy: Policy, avoid: string | undefined) =>
  policy.available.includes(g.name) && g.enabled && !g.cordoned && g.online !== false && g.name !== avoid

describe("balancer properties", () => {
  it("ranks every gateway as the reference reading of SPEC §4 does", () =>
    fc.assert(fc.property(loadsArb, policyArb, requestArb, (loads, policy, request) => {
      assert.deepStrictEqual(rankGateways(loads, policy, request), reference(loads, policy, request))
    }), { numRuns: 500 }))

  it("chooses the reference's first gateway, or none when no gateway is usable", () =>
    fc.assert(fc.property(loadsArb, policyArb, requestArb, (loads, policy, request) => {
      const [first] = reference(loads, policy, request)
      assert.deepStrictEqual(
        selectGateway(loads, policy, request),
        first === undefined ? { _tag: "None", reason: "no gateway available" } : { _tag: "Chosen", choice: first }
      )
    }), { numRuns: 300 }))

  it("never chooses past capacity while a usable gateway has room (pins aside)", () =>
    fc.assert(fc.property(loadsArb, policyArb, requestArb, (loads, policy, request) => {
      const need = Math.max(request.users, policy.avgRoomOccupancy)
      const roomSomewhere = loads.some((g) => usable(g, policy, request.avoid) && g.load + need <= g.capacity)
      const s = selectGateway(loads, policy, request)
      if (s._tag === "None" || s.choice.stage === "pinned" || !roomSomewhere) return true
      const chosen = loads.find((g) => g.name === s.choice.gateway)!
      return s.choice.stage !== "overflow" && chosen.load + need <= chosen.capacity
    })))

  it("never chooses a gateway that is offline, disabled, cordoned, unlisted or being avoided", () =>
    fc.assert(fc.property(loadsArb, policyArb, requestArb, (loads, policy, request) =>
      rankGateways(loads, policy, request).every((c) => usable(loads.find((g) => g.name === c.gateway)!, policy, request.avoid))
    )))

  it("gives the same answer for the same input", () =>
    fc.assert(fc.property(loadsArb, policyArb, requestArb, (loads, policy, request) =>
      JSON.stringify(rankGateways(loads, policy, request)) === JSON.stringify(rankGateways([...loads], { ...policy }, { ...request }))
    )))

  /** Places `rooms` fresh rooms one after another on empty gateways of capacity 100, AVG_ROOM_OCCUPANCY 10. */
  const place = (available: ReadonlyArray<string>, strategy: Policy["strategy"], rooms: number) => {
    const policy: Policy = { available, avgRoomOccupancy: 10, regions: [], pinned: new Map(), strategy }
    let loads: Array<GatewayLoad> = available.map((name) => ({
      name, capacity: 100, load: 0, enabled: true, cordoned: false, online: true, region: undefined
    }))
    const order: Array<string> = []
    for (let room = 1; room <= rooms; room++) {
      const s = selectGateway(loads, policy, { room: String(room), country: undefined, region: undefined, avoid: undefined, users: 0 })
      assert.strictEqual(s._tag, "Chosen")
      const name = (s as { choice: { gateway: string } }).choice.gateway
      order.push(name)
      loads = loads.map((g) => (g.name === name ? { ...g, load: g.load + 10 } : g))
    }
    return order
  }

  it("sequential fills the gateways in list order, ten rooms of ten to a gateway of 100", () =>
    fc.assert(fc.property(fc.shuffledSubarray(names, { minLength: 1 }), fc.integer({ min: 1, max: 60 }), (available, rooms) => {
      const positions = place(available, "sequential", rooms).map((g) => available.indexOf(g))
      return positions.every((p, i) => i >= available.length * 10 || p === Math.floor(i / 10))
    })))

  it("least-loaded spreads rooms evenly (counts differ by at most one)", () =>
    fc.assert(fc.property(fc.shuffledSubarray(names, { minLength: 1 }), fc.integer({ min: 1, max: 60 }), (available, rooms) => {
      const order = place(available, "least-loaded", rooms)
      const counts = available.map((g) => order.filter((x) => x === g).length)
      return Math.max(...counts) - Math.min(...counts) <= 1
    })))
})
