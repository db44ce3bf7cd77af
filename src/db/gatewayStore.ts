// Gateways and their load, as the balancer sees them.
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { assignmentLoads, upsertAssignment } from "./assignmentSql.ts"

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

// An arbitrary constant shared by every process of this service.
const placementLock = 7_413_020_118

export class GatewayStore extends Context.Service<GatewayStore, {
  readonly list: Effect.Effect<ReadonlyArray<GatewayRow>>
  /** Load per gateway, leaving out `exceptRoom`'s own assignment (a room being moved). */
  readonly use: (avgRoomOccupancy: number, exceptRoom?: number) => Effect.Effect<ReadonlyArray<GatewayUse>>
  /**
   * Runs `body` in a transaction holding the deployment-wide placement lock:
   * loads read inside it are current until it commits, so rooms placed at
   * the same time (in any process) never overcommit a gateway.
   */
  readonly exclusively: <A, E, R>(body: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Writes a room's assignment (inside `exclusively`). */
  readonly assign: (roomId: number, gateway: string, region: string | null) => Effect.Effect<void>
}>()("room-orchestrator/GatewayStore") {
  static readonly layer = Layer.effect(GatewayStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const list = sql<GatewayRow>`
      SELECT name, capacity, region, enabled, draining, online FROM gateways ORDER BY id`.pipe(Effect.orDie)

    const use = (avg: number, exceptRoom = 0) =>
      sql<GatewayUse>`
        SELECT gateway_name AS gateway, SUM(room_load)::int AS load, count(*)::int AS rooms
        FROM (${assignmentLoads(sql, avg)}) l
        WHERE room_id <> ${exceptRoom}
        GROUP BY gateway_name`.pipe(Effect.orDie)

    const exclusively = <A, E, R>(body: Effect.Effect<A, E, R>) =>
      sql.withTransaction(
        sql`SELECT pg_advisory_xact_lock(${placementLock})`.pipe(Effect.orDie, Effect.andThen(body))
      ).pipe(Effect.catchTag("SqlError", Effect.die)) as Effect.Effect<A, E, R>

    const assign = (roomId: number, gateway: string, region: string | null) =>
      upsertAssignment(sql, roomId, gateway, region).pipe(Effect.asVoid, Effect.orDie)

    return { list, use, exclusively, assign }
  }))
}
