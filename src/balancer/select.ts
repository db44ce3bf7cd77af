// Where a new room goes: pure selection over a snapshot of gateway loads.
// Same input, same answer; every answer says which stage decided it.
//
// `rankGateways` lists every acceptable gateway in order of preference (what
// an operator asks when a decision surprises them); `selectGateway` is its
// first entry.
import type { BalanceStrategy, RegionPool } from "../config.ts"
import type { RoomId } from "../domain/room.ts"

export interface GatewayLoad {
  readonly name: string
  /** Users it can hold. */
  readonly capacity: number
  /** Σ over its rooms of `roomLoad`. */
  readonly load: number
  readonly enabled: boolean
  /** Set by an admin: keeps its rooms, takes no new ones. */
  readonly cordoned: boolean
  /** From MQTT status; undefined while unknown (counts as online). */
  readonly online: boolean | undefined
  /** The gateway's own region, if an admin set one. */
  readonly region: string | undefined
}

export interface Policy {
  /** AVAILABLE_JANUS_SERVERS, in order: ties go to the earlier one. */
  readonly available: ReadonlyArray<string>
  readonly avgRoomOccupancy: number
  readonly regions: ReadonlyArray<RegionPool>
  readonly pinned: ReadonlyMap<RoomId, string>
  readonly strategy: BalanceStrategy
}

export interface PlacementRequest {
  readonly room: RoomId
  /** The caller's country (any case). */
  readonly country: string | undefined
  /** A region to keep (a room moved by failover stays in its region). */
  readonly region: string | undefined
  /** A gateway not to choose (the one that just went down). */
  readonly avoid: string | undefined
  /** Users already in the room (a room being moved brings them along). */
  readonly users: number
  /** The room's expected size, which it holds on its gateway while young (machines/expectedSize.ts); 0 or absent: none. */
  readonly expectedSize?: number | undefined
}

export type Stage = "pinned" | "regional" | "unreserved" | "any" | "overflow"

export interface Choice {
  readonly gateway: string
  readonly stage: Stage
  /** The region the room is placed in: its pool's country, else the gateway's own region. */
  readonly region: string | undefined
  readonly regionalMatch: boolean
}

export type Selection = { readonly _tag: "Chosen"; readonly choice: Choice } | { readonly _tag: "None"; readonly reason: string }

export const noGatewayReason = "no gateway available"

const poolOf = (policy: Policy, code: string | undefined) =>
  code === undefined ? undefined : policy.regions.find((p) => p.country === code.toUpperCase())

/** Gateways that may take a new room now (capacity aside), in list order. */
const online = (loads: ReadonlyArray<GatewayLoad>, policy: Policy, avoid: string | undefined) => {
  const byName = new Map(loads.map((g) => [g.name, g]))
  return policy.available
    .map((name) => byName.get(name))
    .filter((g): g is GatewayLoad => g !== undefined && g.enabled && !g.cordoned && g.online !== false && g.name !== avoid)
}

/**
 * What a room costs a gateway: its users, but at least the average, and
 * while it is young at least its expected size (machines/expectedSize.ts).
 * The one load rule: placements, the load counters and the simulator all use it.
 */
export const roomLoad = (users: number, avgRoomOccupancy: number, expectedSize = 0) => Math.max(users, avgRoomOccupancy, expectedSize)

export const fits = (g: GatewayLoad, need: number) => g.load + need <= g.capacity

const ratio = (g: GatewayLoad) => g.load / g.capacity

/** A stage's candidates best first; the sort is stable, so ties keep list order. */
const order = (candidates: ReadonlyArray<GatewayLoad>, strategy: BalanceStrategy | "least-loaded") =>
  [...candidates].sort(strategy === "least-loaded" ? (a, b) => ratio(a) - ratio(b) : (a, b) => b.load - a.load)

/** Every acceptable gateway for the request, most preferred first, each with the stage that admits it. */
export const rankGateways = (loads: ReadonlyArray<GatewayLoad>, policy: Policy, request: PlacementRequest): ReadonlyArray<Choice> => {
  const up = online(loads, policy, request.avoid)
  const eligible = up.filter((g) => fits(g, roomLoad(request.users, policy.avgRoomOccupancy, request.expectedSize)))
  const pool = poolOf(policy, request.region ?? request.country)
  const reserved = new Set(policy.regions.flatMap((p) => p.gateways))
  const ranked: Array<Choice> = []
  const seen = new Set<string>()
  const add = (gateways: ReadonlyArray<GatewayLoad>, stage: Stage) => {
    for (const g of gateways) {
      if (seen.has(g.name)) continue
      seen.add(g.name)
      const regional = pool !== undefined && pool.gateways.includes(g.name)
      ranked.push({
        gateway: g.name,
        stage,
        region: regional ? pool.country : g.region,
        regionalMatch: regional
      })
    }
  }

  const pinned = up.find((g) => g.name === policy.pinned.get(request.room))
  if (pinned !== undefined) add([pinned], "pinned")
  if (pool !== undefined) add(order(eligible.filter((g) => pool.gateways.includes(g.name)), policy.strategy), "regional")
  add(order(eligible.filter((g) => !reserved.has(g.name)), policy.strategy), "unreserved")
  add(order(eligible, policy.strategy), "any")
  add(order(up, "least-loaded"), "overflow")
  return ranked
}

export const selectGateway = (loads: ReadonlyArray<GatewayLoad>, policy: Policy, request: PlacementRequest): Selection => {
  const [first] = rankGateways(loads, policy, request)
  return first === undefined ? { _tag: "None", reason: noGatewayReason } : { _tag: "Chosen", choice: first }
}
