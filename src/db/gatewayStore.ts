// Gateways and their load, as the balancer sees them.
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

export interface GatewayRow {
  readonly name: string
  readonly capacity: number | null
  readonly region: string | null
  readonly enabled: boolean
  readonly draining: boolean
  readonly online: boolean | null
}

export interface GatewayUse {
  readonly gateway: string
  /** Σ over its assigned rooms of max(live users, average). */
  readonly load: number
  readonly rooms: number
}

export class GatewayStore extends Context.Service<GatewayStore, {
  readonly list: Effect.Effect<ReadonlyArray<GatewayRow>>
  readonly use: (avgRoomOccupancy: number) => Effect.Effect<ReadonlyArray<GatewayUse>>
}>()("room-orchestrator/GatewayStore") {
  static readonly layer = Layer.effect(GatewayStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const list = sql<GatewayRow>`
      SELECT name, capacity, region, enabled, draining, online FROM gateways ORDER BY id`.pipe(Effect.orDie)

    const use = (avg: number) =>
      sql<{ gateway: string; load: number; rooms: number }>`
        SELECT a.gateway_name AS gateway,
               SUM(GREATEST(COALESCE(u.users, 0), ${avg}))::int AS load,
               count(*)::int AS rooms
        FROM room_server_assignments a
        LEFT JOIN (
          SELECT room_id, count(DISTINCT user_id)::int AS users
          FROM sessions WHERE removed_at IS NULL GROUP BY room_id
        ) u ON u.room_id = a.room_id
        GROUP BY a.gateway_name`.pipe(Effect.orDie)

    return { list, use }
  }))
}
