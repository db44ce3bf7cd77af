// Gateways and their load, as the balancer sees them.
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { assignmentLoads, upsertAssignment } from "./assignmentSql.ts"

export interface GatewayRow {
  readonly name: string
  readonly description: string
  readonly capacity: number | null
  readonly region: string | null
  readonly enabled: boolean
  readonly draining: boolean
  readonly online: boolean | null
}

export interface GatewayUse {
  readonly gateway: string
  /** Σ over its assigned rooms of max(sessions, average). */
  readonly load: number
  readonly rooms: number
}

export type GatewayPatch = { readonly [K in "description" | "capacity" | "region" | "enabled" | "draining"]?: GatewayRow[K] | undefined }

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
  readonly assign: (roomId: number, gateway: string, region: string | null, users: number) => Effect.Effect<void>
  /** Registers a gateway; undefined when the name is taken. */
  readonly create: (gateway: Omit<GatewayRow, "online">) => Effect.Effect<GatewayRow | undefined>
  /** Records a gateway's status; false when no such gateway is registered. */
  readonly setOnline: (name: string, online: boolean) => Effect.Effect<boolean>
  /** Room numbers assigned to a gateway. */
  readonly roomsOn: (name: string) => Effect.Effect<ReadonlyArray<number>>
  /** Changes an admin's settings of a gateway; undefined when there is none. */
  readonly update: (name: string, patch: GatewayPatch) => Effect.Effect<GatewayRow | undefined>
}>()("room-orchestrator/GatewayStore") {
  static readonly layer = Layer.effect(GatewayStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const list = sql<GatewayRow>`
      SELECT name, description, capacity, region, enabled, draining, online FROM gateways ORDER BY id`.pipe(Effect.orDie)

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

    const assign = (roomId: number, gateway: string, region: string | null, users: number) =>
      upsertAssignment(sql, roomId, gateway, region, users).pipe(Effect.asVoid, Effect.orDie)

    const columns = sql`name, description, capacity, region, enabled, draining, online`

    const create = (g: Omit<GatewayRow, "online">) =>
      sql<GatewayRow>`
        INSERT INTO gateways (name, description, capacity, region, enabled, draining)
        VALUES (${g.name}, ${g.description}, ${g.capacity}, ${g.region}, ${g.enabled}, ${g.draining})
        ON CONFLICT (name) DO NOTHING
        RETURNING ${columns}`.pipe(Effect.map((rows) => rows[0]), Effect.orDie)

    const update = (name: string, p: GatewayPatch) =>
      sql<GatewayRow>`
        UPDATE gateways SET
          description = COALESCE(${p.description ?? null}, description),
          capacity = CASE WHEN ${p.capacity !== undefined} THEN ${p.capacity ?? null}::int ELSE capacity END,
          region = CASE WHEN ${p.region !== undefined} THEN ${p.region ?? null} ELSE region END,
          enabled = COALESCE(${p.enabled ?? null}, enabled),
          draining = COALESCE(${p.draining ?? null}, draining),
          updated_at = now()
        WHERE name = ${name}
        RETURNING ${columns}`.pipe(Effect.map((rows) => rows[0]), Effect.orDie)

    const setOnline = (name: string, online: boolean) =>
      sql`UPDATE gateways SET online = ${online}, status_at = now() WHERE name = ${name} RETURNING id`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.orDie
      )

    const roomsOn = (name: string) =>
      sql<{ room: number }>`
        SELECT r.room::int AS room FROM room_server_assignments a JOIN rooms r ON r.id = a.room_id
        WHERE a.gateway_name = ${name} ORDER BY r.room`.pipe(
        Effect.map((rows) => rows.map((r) => r.room)),
        Effect.orDie
      )

    return { list, use, exclusively, assign, create, update, setOnline, roomsOn }
  }))
}
