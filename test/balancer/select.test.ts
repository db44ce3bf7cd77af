// The balancer's promises, checked as properties over generated loads.
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { fits, type GatewayLoad, type Policy, rankGateways, roomLoad, selectGateway } from "../../src/balancer/select.ts"

const names = Array.from({ length: 6 }, (_, i) => `gxy${i + 1}`)

const gatewayArb = (name: string) =>
  fc.record({
    name: fc.constant(name),
    capacity: fc.integer({ min: 10, max: 100 }),
    load: fc.integer({ min: 0, max: 120 }),
    enabled: fc.constantFrom(true, true, true, false),
    draining: fc.boolean(),
    online: fc.constantFrom(true, false, undefined),
    region: fc.constant(undefined)
  }) as fc.Arbitrary<GatewayLoad>

const loadsArb = fc.tuple(...names.map(gatewayArb))

const policyArb = fc.record({
  available: fc.shuffledSubarray(names, { minLength: 1 }),
  avgRoomOccupancy: fc.integer({ min: 1, max: 15 }),
  regions: fc.constantFrom([], [{ country: "IL", gateways: ["gxy1", "gxy2"] }, { country: "US", gateways: ["gxy3"] }]),
  pinned: fc.constantFrom(new Map<string, string>(), new Map([["7", "gxy4"]])),
  strategy: fc.constantFrom("least-loaded" as const, "sequential" as const)
}) as fc.Arbitrary<Policy>

const requestArb = fc.record({
  room: fc.integer({ min: 1, max: 10 }).map(String),
  country: fc.constantFrom(undefined, "IL", "il", "US", "RU"),
  region: fc.constant(undefined),
  avoid: fc.constantFrom(undefined, "gxy2"),
  users: fc.constant(0)
})

const usable = (g: GatewayLoad, policy: Policy, avoid: string | undefined) =>
  policy.available.includes(g.name) && g.enabled && !g.draining && g.online !== false && g.name !== avoid

describe("balancer properties", () => {
  it("never chooses past capacity while an eligible gateway has room", () =>
    fc.assert(fc.property(loadsArb, policyArb, requestArb, (loads, policy, request) => {
      const s = selectGateway(loads, policy, request)
      const roomAvailable = loads.some((g) => usable(g, policy, request.avoid) && fits(g, policy.avgRoomOccupancy))
      if (s._tag === "None") return !loads.some((g) => usable(g, policy, request.avoid))
      const chosen = loads.find((g) => g.name === s.choice.gateway)!
      if (s.choice.stage === "pinned") return policy.pinned.get(request.room) === chosen.name
      if (roomAvailable) return s.choice.stage !== "overflow" && fits(chosen, policy.avgRoomOccupancy)
      return s.choice.stage === "overflow"
    })))

  it("never chooses a gateway that is offline, disabled, draining, unlisted or being avoided", () =>
    fc.assert(fc.property(loadsArb, policyArb, requestArb, (loads, policy, request) =>
      rankGateways(loads, policy, request).every((c) => usable(loads.find((g) => g.name === c.gateway)!, policy, request.avoid))
    )))

  it("takes the caller's regional pool first when it has room", () =>
    fc.assert(fc.property(loadsArb, policyArb, requestArb, (loads, policy, request) => {
      const pool = policy.regions.find((p) => p.country === request.country?.toUpperCase())
      if (pool === undefined || policy.pinned.has(request.room)) return true
      const poolHasRoom = loads.some((g) => pool.gateways.includes(g.name) && usable(g, policy, request.avoid) && fits(g, policy.avgRoomOccupancy))
      const s = selectGateway(loads, policy, request)
      return !poolHasRoom || (s._tag === "Chosen" && s.choice.stage === "regional" && pool.gateways.includes(s.choice.gateway) && s.choice.regionalMatch)
    })))

  it("gives the same answer for the same input", () =>
    fc.assert(fc.property(loadsArb, policyArb, requestArb, (loads, policy, request) =>
      JSON.stringify(rankGateways(loads, policy, request)) === JSON.stringify(rankGateways([...loads], { ...policy }, { ...request }))
    )))

  const place = (policy: Policy, rooms: number) => {
    let loads: Array<GatewayLoad> = policy.available.map((name) => ({
      name, capacity: 100, load: 0, enabled: true, draining: false, online: true, region: undefined
    }))
    const order: Array<string> = []
    for (let room = 1; room <= rooms; room++) {
      const s = selectGateway(loads, policy, { room: String(room), country: undefined, region: undefined, avoid: undefined, users: 0 })
      assert.strictEqual(s._tag, "Chosen")
      const name = (s as { choice: { gateway: string } }).choice.gateway
      order.push(name)
      loads = loads.map((g) => (g.name === name ? { ...g, load: g.load + roomLoad(0, policy.avgRoomOccupancy) } : g))
    }
    return order
  }

  it("sequential fills the gateways in list order", () =>
    fc.assert(fc.property(fc.shuffledSubarray(names, { minLength: 1 }), fc.integer({ min: 1, max: 60 }), (available, rooms) => {
      const order = place({ available, avgRoomOccupancy: 10, regions: [], pinned: new Map(), strategy: "sequential" }, rooms)
      const positions = order.map((g) => available.indexOf(g))
      // 10 rooms of 10 fill a gateway of 100, then the next one in the list
      return positions.every((p, i) => p === Math.min(Math.floor(i / 10), available.length - 1) || i >= available.length * 10)
    })))

  it("least-loaded spreads rooms evenly (counts differ by at most one)", () =>
    fc.assert(fc.property(fc.shuffledSubarray(names, { minLength: 1 }), fc.integer({ min: 1, max: 60 }), (available, rooms) => {
      const order = place({ available, avgRoomOccupancy: 10, regions: [], pinned: new Map(), strategy: "least-loaded" }, rooms)
      const counts = available.map((g) => order.filter((x) => x === g).length)
      return Math.max(...counts) - Math.min(...counts) <= 1
    })))

  it("a pinned room goes to its gateway whatever its load, unless it is offline", () => {
    const loads: Array<GatewayLoad> = names.map((name) => ({
      name, capacity: 10, load: name === "gxy5" ? 500 : 0, enabled: true, draining: false, online: true, region: undefined
    }))
    const policy: Policy = { available: names, avgRoomOccupancy: 10, regions: [], pinned: new Map([["2171", "gxy5"]]), strategy: "least-loaded" }
    const request = { room: "2171", country: undefined, region: undefined, avoid: undefined, users: 0 }
    assert.deepInclude(selectGateway(loads, policy, request), { _tag: "Chosen" })
    const s = selectGateway(loads, policy, request)
    assert.strictEqual(s._tag === "Chosen" && s.choice.gateway, "gxy5")
    const offline = loads.map((g) => (g.name === "gxy5" ? { ...g, online: false } : g))
    const t = selectGateway(offline, policy, request)
    assert.strictEqual(t._tag === "Chosen" && t.choice.stage, "unreserved")
  })

  it("the seeds' regional example: IL first to gxy1, a US room to gxy3", () => {
    const loads: Array<GatewayLoad> = names.map((name) => ({
      name, capacity: 400, load: 0, enabled: true, draining: false, online: undefined, region: undefined
    }))
    const policy: Policy = {
      available: names,
      avgRoomOccupancy: 10,
      regions: [{ country: "IL", gateways: ["gxy1", "gxy2"] }, { country: "US", gateways: ["gxy3", "gxy4"] }],
      pinned: new Map(),
      strategy: "least-loaded"
    }
    const il = selectGateway(loads, policy, { room: "1", country: "il", region: undefined, avoid: undefined, users: 0 })
    assert.deepStrictEqual(il, { _tag: "Chosen", choice: { gateway: "gxy1", stage: "regional", region: "IL", regionalMatch: true } })
    const us = selectGateway(loads, policy, { room: "2", country: "US", region: undefined, avoid: undefined, users: 0 })
    assert.strictEqual(us._tag === "Chosen" && us.choice.gateway, "gxy3")
    const other = selectGateway(loads, policy, { room: "3", country: "FR", region: undefined, avoid: undefined, users: 0 })
    assert.deepInclude(other._tag === "Chosen" ? other.choice : {}, { gateway: "gxy5", stage: "unreserved" })
  })

  it("answers none when no gateway is online", () => {
    const loads: Array<GatewayLoad> = names.map((name) => ({
      name, capacity: 400, load: 0, enabled: true, draining: false, online: false, region: undefined
    }))
    const policy: Policy = { available: names, avgRoomOccupancy: 10, regions: [], pinned: new Map(), strategy: "least-loaded" }
    assert.deepStrictEqual(selectGateway(loads, policy, { room: "1", country: undefined, region: undefined, avoid: undefined, users: 0 }), {
      _tag: "None",
      reason: "no gateway available"
    })
  })
})
