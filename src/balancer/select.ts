// Where a new room goes: pure selection over a snapshot of gateway loads.
// Same input, same answer; every answer says which stage decided it.
import type { BalanceStrategy, RegionPool } from "../config.ts"

export interface GatewayLoad {
  readonly name: string
  /** Users it can hold. */
  readonly capacity: number
  /** Σ over its rooms of max(users in room, AVG_ROOM_OCCUPANCY). */
  readonly load: number
  readonly enabled: boolean
  readonly draining: boolean
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
  readonly pinned: ReadonlyMap<number, string>
  readonly strategy: BalanceStrategy
}

export interface PlacementRequest {
  readonly room: number
  /** The caller's country (any case). */
  readonly country: string | undefined
  /** A region to keep (a room moved by failover stays in its region). */
  readonly region: string | undefined
  /** A gateway not to choose (the one that just went down). */
  readonly avoid: string | undefined
}

export type Stage = "pinned" | "regional" | "unreserved" | "any" | "overflow"

export interface Choice {
  readonly gateway: string
  readonly stage: Stage
  /** The region the room is placed in: its pool's country, else the gateway's own region. */
  readonly region: string | undefined
  readonly regionalMatch: boolean
}

export interface NoGateway {
  readonly reason: string
}

export type Selection = { readonly _tag: "Chosen"; readonly choice: Choice } | { readonly _tag: "None"; readonly reason: string }

const poolOf = (policy: Policy, code: string | undefined) =>
  code === undefined ? undefined : policy.regions.find((p) => p.country === code.toUpperCase())

/** Gateways a new room may go to now, in list order. */
const usable = (loads: ReadonlyArray<GatewayLoad>, policy: Policy, avoid: string | undefined) => {
  const byName = new Map(loads.map((g) => [g.name, g]))
  return policy.available
    .map((name) => byName.get(name))
    .filter((g): g is GatewayLoad => g !== undefined && g.enabled && !g.draining && g.online !== false && g.name !== avoid)
}

const fits = (g: GatewayLoad, policy: Policy) => g.load + policy.avgRoomOccupancy <= g.capacity

const ratio = (g: GatewayLoad) => g.load / g.capacity

/** The pick within one stage's candidates (already in list order). */
const pick = (candidates: ReadonlyArray<GatewayLoad>, strategy: BalanceStrategy): GatewayLoad | undefined => {
  let best: GatewayLoad | undefined
  for (const g of candidates) {
    if (best === undefined) best = g
    else if (strategy === "least-loaded" ? ratio(g) < ratio(best) : g.load > best.load) best = g
  }
  return best
}

export const selectGateway = (loads: ReadonlyArray<GatewayLoad>, policy: Policy, request: PlacementRequest): Selection => {
  const online = usable(loads, policy, request.avoid)
  const eligible = online.filter((g) => fits(g, policy))
  const pool = poolOf(policy, request.region ?? request.country)
  const chosen = (g: GatewayLoad, stage: Stage, poolRegion?: string): Selection => ({
    _tag: "Chosen",
    choice: { gateway: g.name, stage, region: poolRegion ?? g.region, regionalMatch: poolRegion !== undefined }
  })

  const pinnedName = policy.pinned.get(request.room)
  const pinned = online.find((g) => g.name === pinnedName)
  if (pinned !== undefined) return chosen(pinned, "pinned", pool?.gateways.includes(pinned.name) ? pool.country : undefined)

  if (pool !== undefined) {
    const regional = pick(eligible.filter((g) => pool.gateways.includes(g.name)), policy.strategy)
    if (regional !== undefined) return chosen(regional, "regional", pool.country)
  }

  const reserved = new Set(policy.regions.flatMap((p) => p.gateways))
  const unreserved = pick(eligible.filter((g) => !reserved.has(g.name)), policy.strategy)
  if (unreserved !== undefined) return chosen(unreserved, "unreserved")

  const any = pick(eligible, policy.strategy)
  if (any !== undefined) return chosen(any, "any")

  const overflow = pick(online, "least-loaded")
  if (overflow !== undefined) return chosen(overflow, "overflow")

  return { _tag: "None", reason: "no gateway available" }
}
