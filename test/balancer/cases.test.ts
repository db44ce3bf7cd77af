// The balancer on fixed gateways with literal expected picks: each case is a
// table of gateways (as `name capacity load [flags]`) and the answer SPEC §4
// gives for it, written out. Defaults are SPEC's: MAX_SERVER_CAPACITY 400,
// AVG_ROOM_OCCUPANCY 10, least-loaded, no regions, no pins.
import { assert, describe, it } from "@effect/vitest"
import { type GatewayLoad, type Policy, type PlacementRequest, rankGateways, selectGateway } from "../../src/balancer/select.ts"

/** `"gxy1 400 390"`, flags after: `draining` (SPEC's word for a cordoned gateway), `disabled`, `offline`, `online`, `region=EU`. */
const gateway = (line: string): GatewayLoad => {
  const [name, capacity, load, ...flags] = line.split(" ")
  return {
    name: name!,
    capacity: Number(capacity),
    load: Number(load),
    enabled: !flags.includes("disabled"),
    cordoned: flags.includes("draining"),
    online: flags.includes("offline") ? false : flags.includes("online") ? true : undefined,
    region: flags.find((f) => f.startsWith("region="))?.slice("region=".length)
  }
}

const policyOf = (table: ReadonlyArray<GatewayLoad>, policy: Partial<Policy>): Policy => ({
  available: table.map((g) => g.name),
  avgRoomOccupancy: 10,
  regions: [],
  pinned: new Map(),
  strategy: "least-loaded",
  ...policy
})

const request = (r: Partial<PlacementRequest> = {}): PlacementRequest =>
  ({ room: "2171", country: undefined, region: undefined, avoid: undefined, users: 0, ...r })

const pools = [{ country: "IL", gateways: ["gxy1", "gxy2"] }, { country: "US", gateways: ["gxy3"] }]

interface Case {
  readonly name: string
  readonly gateways: ReadonlyArray<string>
  readonly policy?: Partial<Policy>
  readonly request?: Partial<PlacementRequest>
  /** `gateway stage`, or `none`. */
  readonly expect: string
}

const cases: ReadonlyArray<Case> = [
  // capacity edges: eligible when load + AVG_ROOM_OCCUPANCY <= capacity
  { name: "load 390 of 400 still fits a room of 10", gateways: ["gxy1 400 390", "gxy2 400 0"], policy: { strategy: "sequential" }, expect: "gxy1 unreserved" },
  { name: "load 391 of 400 does not", gateways: ["gxy1 400 391", "gxy2 400 0"], policy: { strategy: "sequential" }, expect: "gxy2 unreserved" },
  { name: "the only gateway at 390 takes the room within capacity", gateways: ["gxy1 400 390"], expect: "gxy1 unreserved" },
  { name: "the only gateway at 391 takes it as overflow", gateways: ["gxy1 400 391"], expect: "gxy1 overflow" },
  { name: "the gateway's own capacity counts, not MAX_SERVER_CAPACITY", gateways: ["gxy1 100 91", "gxy2 400 0"], policy: { strategy: "sequential" }, expect: "gxy2 unreserved" },
  { name: "a gateway of 100 at 90 fits", gateways: ["gxy1 100 90", "gxy2 400 0"], policy: { strategy: "sequential" }, expect: "gxy1 unreserved" },
  { name: "AVG_ROOM_OCCUPANCY 30: load 370 fits, 371 does not", gateways: ["gxy1 400 371", "gxy2 400 370", "gxy3 400 0"], policy: { avgRoomOccupancy: 30, strategy: "sequential" }, expect: "gxy2 unreserved" },
  // a room moved with its users needs what it has when that is more than the average
  { name: "a moved room of 25 fits at 375", gateways: ["gxy1 400 375", "gxy2 400 0"], policy: { strategy: "sequential" }, request: { users: 25 }, expect: "gxy1 unreserved" },
  { name: "a moved room of 25 does not fit at 376", gateways: ["gxy1 400 376", "gxy2 400 0"], policy: { strategy: "sequential" }, request: { users: 25 }, expect: "gxy2 unreserved" },
  { name: "a moved room of 5 still reserves the average", gateways: ["gxy1 400 391", "gxy2 400 0"], policy: { strategy: "sequential" }, request: { users: 5 }, expect: "gxy2 unreserved" },
  // least-loaded: the lowest load ratio, ties in AVAILABLE_JANUS_SERVERS order
  { name: "least-loaded compares ratios, not users", gateways: ["gxy1 100 50", "gxy2 400 100"], expect: "gxy2 unreserved" },
  { name: "least-loaded: an equal ratio goes to the earlier listed", gateways: ["gxy1 400 200", "gxy2 200 100"], expect: "gxy1 unreserved" },
  { name: "least-loaded: ties follow AVAILABLE_JANUS_SERVERS, not the loads' order", gateways: ["gxy1 400 0", "gxy2 400 0", "gxy3 400 0"], policy: { available: ["gxy3", "gxy1", "gxy2"] }, expect: "gxy3 unreserved" },
  // sequential: the most loaded gateway that still fits
  { name: "sequential fills the most loaded that fits", gateways: ["gxy1 400 100", "gxy2 400 300", "gxy3 400 395"], policy: { strategy: "sequential" }, expect: "gxy2 unreserved" },
  { name: "sequential compares users, not ratios", gateways: ["gxy1 100 80", "gxy2 400 200"], policy: { strategy: "sequential" }, expect: "gxy2 unreserved" },
  { name: "sequential: equal loads go to the earlier listed", gateways: ["gxy1 400 50", "gxy2 400 50"], policy: { strategy: "sequential", available: ["gxy2", "gxy1"] }, expect: "gxy2 unreserved" },
  // overflow: every gateway full → the least-loaded online, non-draining one, whatever the strategy
  { name: "overflow takes the lowest ratio", gateways: ["gxy1 400 399", "gxy2 100 95", "gxy3 400 396"], expect: "gxy2 overflow" },
  { name: "overflow is least-loaded under sequential too", gateways: ["gxy1 400 399", "gxy2 400 395"], policy: { strategy: "sequential" }, expect: "gxy2 overflow" },
  { name: "overflow ties go to the earlier listed", gateways: ["gxy1 400 400", "gxy2 400 400"], policy: { available: ["gxy2", "gxy1"] }, expect: "gxy2 overflow" },
  { name: "overflow never goes to a draining gateway", gateways: ["gxy1 400 0 draining", "gxy2 400 450"], expect: "gxy2 overflow" },
  // unusable gateways
  { name: "a draining gateway takes no new room", gateways: ["gxy1 400 0 draining", "gxy2 400 200"], expect: "gxy2 unreserved" },
  { name: "an offline gateway takes no room", gateways: ["gxy1 400 0 offline", "gxy2 400 200"], expect: "gxy2 unreserved" },
  { name: "a gateway whose status is unknown counts as online", gateways: ["gxy1 400 0", "gxy2 400 200 online"], expect: "gxy1 unreserved" },
  { name: "a disabled gateway takes no room", gateways: ["gxy1 400 0 disabled", "gxy2 400 200"], expect: "gxy2 unreserved" },
  { name: "a gateway not in AVAILABLE_JANUS_SERVERS takes no room", gateways: ["gxy1 400 0", "gxy2 400 200"], policy: { available: ["gxy2"] }, expect: "gxy2 unreserved" },
  { name: "a listed gateway the deployment has no load for takes no room", gateways: ["gxy1 400 200"], policy: { available: ["gxy9", "gxy1"] }, expect: "gxy1 unreserved" },
  { name: "the gateway a room is moved off is avoided", gateways: ["gxy1 400 0", "gxy2 400 200"], request: { avoid: "gxy1" }, expect: "gxy2 unreserved" },
  { name: "no gateway online: none", gateways: ["gxy1 400 0 offline", "gxy2 400 0 offline"], expect: "none" },
  { name: "only draining, disabled and avoided gateways: none", gateways: ["gxy1 400 0 draining", "gxy2 400 0 disabled", "gxy3 400 0"], request: { avoid: "gxy3" }, expect: "none" },
  // regions (SERVER_REGIONS IL:gxy1,gxy2;US:gxy3)
  { name: "an IL caller goes to the least loaded of the IL pool", gateways: ["gxy1 400 200", "gxy2 400 100", "gxy3 400 0", "gxy4 400 0"], policy: { regions: pools }, request: { country: "IL" }, expect: "gxy2 regional" },
  { name: "country codes are case-insensitive", gateways: ["gxy1 400 200", "gxy2 400 100", "gxy3 400 0", "gxy4 400 0"], policy: { regions: pools }, request: { country: "il" }, expect: "gxy2 regional" },
  { name: "a full IL pool sends IL callers to a gateway no region reserves", gateways: ["gxy1 400 395", "gxy2 400 395", "gxy3 400 0", "gxy4 400 50"], policy: { regions: pools }, request: { country: "IL" }, expect: "gxy4 unreserved" },
  { name: "then to any gateway with room, another region's too", gateways: ["gxy1 400 395", "gxy2 400 395", "gxy3 400 0", "gxy4 400 395"], policy: { regions: pools }, request: { country: "IL" }, expect: "gxy3 any" },
  { name: "a caller with no pool skips the reserved gateways", gateways: ["gxy1 400 0", "gxy2 400 0", "gxy3 400 0", "gxy4 400 300"], policy: { regions: pools }, request: { country: "FR" }, expect: "gxy4 unreserved" },
  { name: "a caller with no country skips them too", gateways: ["gxy1 400 0", "gxy3 400 0", "gxy4 400 300"], policy: { regions: pools }, expect: "gxy4 unreserved" },
  { name: "a moved room keeps its region over its caller's country", gateways: ["gxy1 400 0", "gxy2 400 0", "gxy3 400 200", "gxy4 400 0"], policy: { regions: pools }, request: { country: "IL", region: "US" }, expect: "gxy3 regional" },
  { name: "with every gateway full, overflow goes by load alone, not by the caller's region", gateways: ["gxy1 400 398", "gxy2 400 399", "gxy3 400 396"], policy: { regions: pools }, request: { country: "IL" }, expect: "gxy3 overflow" },
  // pins (SERVER_ROOMS 2171:gxy5)
  { name: "a pinned room goes to its gateway whatever its load", gateways: ["gxy1 400 0", "gxy5 10 500"], policy: { pinned: new Map([["2171", "gxy5"]]) }, expect: "gxy5 pinned" },
  { name: "a pin comes before the caller's region", gateways: ["gxy1 400 0", "gxy2 400 0", "gxy5 400 300"], policy: { regions: pools, pinned: new Map([["2171", "gxy5"]]) }, request: { country: "IL" }, expect: "gxy5 pinned" },
  { name: "another room's pin does not apply", gateways: ["gxy1 400 0", "gxy5 400 300"], policy: { pinned: new Map([["2172", "gxy1"]]), strategy: "sequential" }, expect: "gxy5 unreserved" },
  { name: "a pinned gateway that is offline is passed over", gateways: ["gxy1 400 200", "gxy5 400 0 offline"], policy: { pinned: new Map([["2171", "gxy5"]]) }, expect: "gxy1 unreserved" },
  { name: "a pinned gateway that is draining is passed over", gateways: ["gxy1 400 200", "gxy5 400 0 draining"], policy: { pinned: new Map([["2171", "gxy5"]]) }, expect: "gxy1 unreserved" },
  { name: "a pinned gateway the room is moved off is passed over", gateways: ["gxy1 400 200", "gxy5 400 0"], policy: { pinned: new Map([["2171", "gxy5"]]) }, request: { avoid: "gxy5" }, expect: "gxy1 unreserved" }
]

describe("balancer cases", () => {
  for (const c of cases) {
    it(`${c.name}: ${c.expect}`, () => {
      const table = c.gateways.map(gateway)
      const s = selectGateway(table, policyOf(table, c.policy ?? {}), request(c.request))
      assert.strictEqual(s._tag === "Chosen" ? `${s.choice.gateway} ${s.choice.stage}` : `none (${s.reason})`, c.expect === "none" ? "none (no gateway available)" : c.expect)
    })
  }
})

describe("balancer answers in full", () => {
  const six = ["gxy1", "gxy2", "gxy3", "gxy4", "gxy5", "gxy6"].map((n) => gateway(`${n} 400 0`))

  it("the seeds' regional example: IL first to gxy1, a US room to gxy3, a French one outside both pools", () => {
    const policy = policyOf(six, { regions: [{ country: "IL", gateways: ["gxy1", "gxy2"] }, { country: "US", gateways: ["gxy3", "gxy4"] }] })
    assert.deepStrictEqual(selectGateway(six, policy, request({ country: "il" })), {
      _tag: "Chosen", choice: { gateway: "gxy1", stage: "regional", region: "IL", regionalMatch: true }
    })
    assert.deepStrictEqual(selectGateway(six, policy, request({ country: "US" })), {
      _tag: "Chosen", choice: { gateway: "gxy3", stage: "regional", region: "US", regionalMatch: true }
    })
    assert.deepStrictEqual(selectGateway(six, policy, request({ country: "FR" })), {
      _tag: "Chosen", choice: { gateway: "gxy5", stage: "unreserved", region: undefined, regionalMatch: false }
    })
  })

  it("a choice outside the caller's pool carries the gateway's own region; one inside it, the pool's", () => {
    const table = ["gxy1 400 395", "gxy2 400 395", "gxy3 400 0 region=NA", "gxy4 400 100 region=EU"].map(gateway)
    const policy = policyOf(table, { regions: pools })
    assert.deepStrictEqual(rankGateways(table, policy, request({ country: "IL" })), [
      { gateway: "gxy4", stage: "unreserved", region: "EU", regionalMatch: false },
      { gateway: "gxy3", stage: "any", region: "NA", regionalMatch: false },
      { gateway: "gxy1", stage: "overflow", region: "IL", regionalMatch: true },
      { gateway: "gxy2", stage: "overflow", region: "IL", regionalMatch: true }
    ])
  })

  it("ranks every usable gateway once, at the first stage that admits it", () => {
    const table = ["gxy1 400 100", "gxy2 400 0", "gxy3 400 0", "gxy4 400 395", "gxy5 400 390", "gxy6 400 0 draining"].map(gateway)
    const policy = policyOf(table, { regions: pools, pinned: new Map([["2171", "gxy4"]]) })
    assert.deepStrictEqual(rankGateways(table, policy, request({ country: "IL" })).map((c) => `${c.gateway} ${c.stage}`), [
      "gxy4 pinned", "gxy2 regional", "gxy1 regional", "gxy5 unreserved", "gxy3 any"
    ])
    assert.deepStrictEqual(rankGateways(table, { ...policy, strategy: "sequential" }, request({ country: "IL" })).map((c) => `${c.gateway} ${c.stage}`), [
      "gxy4 pinned", "gxy1 regional", "gxy2 regional", "gxy5 unreserved", "gxy3 any"
    ])
  })

  /** Fresh rooms placed one after another on three empty gateways of 40 (room for four rooms of 10 each). */
  const fill = (strategy: Policy["strategy"], rooms: number) => {
    let table = ["gxy1 40 0", "gxy2 40 0", "gxy3 40 0"].map(gateway)
    const picks: Array<string> = []
    for (let i = 0; i < rooms; i++) {
      const s = selectGateway(table, policyOf(table, { strategy }), request({ room: String(i) }))
      const pick = s._tag === "Chosen" ? `${s.choice.gateway}${s.choice.stage === "overflow" ? "!" : ""}` : "none"
      picks.push(pick)
      table = table.map((g) => (pick.startsWith(g.name) ? { ...g, load: g.load + 10 } : g))
    }
    return picks
  }

  it("sequential filling: a gateway fills before the next is used; full everywhere, overflow (!) goes to the least loaded", () =>
    assert.deepStrictEqual(fill("sequential", 14), [
      "gxy1", "gxy1", "gxy1", "gxy1", "gxy2", "gxy2", "gxy2", "gxy2", "gxy3", "gxy3", "gxy3", "gxy3", "gxy1!", "gxy2!"
    ]))

  it("least-loaded filling: one room each in turn", () =>
    assert.deepStrictEqual(fill("least-loaded", 14), [
      "gxy1", "gxy2", "gxy3", "gxy1", "gxy2", "gxy3", "gxy1", "gxy2", "gxy3", "gxy1", "gxy2", "gxy3", "gxy1!", "gxy2!"
    ]))
})
