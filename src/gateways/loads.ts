// Every gateway with its load, as operators see it (GET /servers, the
// inspector's /admin/gateway-loads, the gateway gauges of /metrics): read from
// Postgres each time, so every process answers the same. The load is the
// gateway's counter, the one placement reserves from (kept by the rooms'
// steps); gateways of AVAILABLE_JANUS_SERVERS that are not registered count
// as the balancer counts them: enabled, default capacity.
import { Context, Effect, Layer } from "effect"
import { AppConfig } from "../config.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"

export interface GatewayLoadView {
  readonly name: string
  readonly region: string | null
  /** Its own capacity, or MAX_SERVER_CAPACITY. */
  readonly capacity: number
  /** Its load counter: Σ over its assigned rooms of max(users, AVG_ROOM_OCCUPANCY, a young room's expected size). */
  readonly load: number
  /** Of `load`, what young rooms reserve for users expected but not yet there (the real load is load − reserved). */
  readonly reserved: number
  /** Rooms assigned to it. */
  readonly rooms: number
  /** Live sessions on it. */
  readonly users: number
  readonly enabled: boolean
  /** Set by an admin: keeps its rooms, takes no new ones. */
  readonly cordoned: boolean
  /** From MQTT; null while unknown. */
  readonly online: boolean | null
  /** Listed in AVAILABLE_JANUS_SERVERS (the balancer may use it). */
  readonly available: boolean
  /** Registered in the gateways table. */
  readonly registered: boolean
}

export class GatewayLoads extends Context.Service<GatewayLoads, {
  /** Registered gateways in their order, then those of AVAILABLE_JANUS_SERVERS not registered. */
  readonly current: Effect.Effect<ReadonlyArray<GatewayLoadView>, DatabaseUnavailable>
}>()("room-orchestrator/GatewayLoads") {
  static readonly layer = Layer.effect(GatewayLoads, Effect.gen(function*() {
    const config = yield* AppConfig
    const store = yield* GatewayStore

    const current = Effect.gen(function*() {
      const [rows, loads, users] = yield* Effect.all([store.list, store.loads, store.usersOn])
      const placed = new Map(loads.map((l) => [l.gateway, l]))
      const usersOf = new Map(users.map((u) => [u.gateway, u.users]))
      const available = new Set(config.availableJanusServers)
      const registered = new Set(rows.map((r) => r.name))
      const view = (name: string, row: (typeof rows)[number] | undefined): GatewayLoadView => ({
        name,
        region: row?.region ?? null,
        capacity: row?.capacity ?? config.maxServerCapacity,
        load: placed.get(name)?.load ?? 0,
        rooms: placed.get(name)?.rooms ?? 0,
        reserved: placed.get(name)?.reserved ?? 0,
        users: usersOf.get(name) ?? 0,
        enabled: row?.enabled ?? true,
        cordoned: row?.cordoned ?? false,
        online: row?.online ?? null,
        available: available.has(name),
        registered: row !== undefined
      })
      return [
        ...rows.map((row) => view(row.name, row)),
        ...config.availableJanusServers.filter((name) => !registered.has(name)).map((name) => view(name, undefined))
      ]
    })

    return { current }
  }))
}

/** The view as GET /servers and /admin/gateway-loads answer it. */
export const gatewayLoadView = ({ registered: _, cordoned, ...view }: GatewayLoadView) => ({ ...view, draining: cordoned })
