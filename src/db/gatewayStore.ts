// Gateways, and what is assigned to them, as the balancer and admins see them.
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { DatabaseUnavailable } from "../domain/errors.ts"
import type { RoomId } from "../domain/room.ts"
import { decodeRow, unavailable, unavailableIn } from "./failure.ts"

const GatewayRowSchema = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  capacity: Schema.NullOr(Schema.Number),
  region: Schema.NullOr(Schema.String),
  enabled: Schema.Boolean,
  draining: Schema.Boolean,
  online: Schema.NullOr(Schema.Boolean)
})
export type GatewayRow = typeof GatewayRowSchema.Type

/** Rooms assigned to a gateway that count `users` sessions each: the balancer turns these into a load. */
const AssignedRoomsSchema = Schema.Struct({ gateway: Schema.String, users: Schema.Number, rooms: Schema.Number })
export type AssignedRooms = typeof AssignedRoomsSchema.Type

export type GatewayPatch = { readonly [K in "description" | "capacity" | "region" | "enabled" | "draining"]?: GatewayRow[K] | undefined }

/** A gateway's events credentials: the hash of its password (null: none set). */
export interface EventsPassword {
  /** Only the hash is stored; null when no password is set. */
  readonly eventsPasswordHash?: string | null | undefined
}

export interface GatewayListing extends GatewayRow {
  readonly eventsPasswordSet: boolean
}

// An arbitrary constant shared by every process of this service.
const placementLock = 7_413_020_118

const decodeGateway = decodeRow(GatewayRowSchema, "gateways", (raw) => `name=${String((raw as { name?: unknown }).name)}`)

export class GatewayStore extends Context.Service<GatewayStore, {
  readonly list: Effect.Effect<ReadonlyArray<GatewayRow>, DatabaseUnavailable>
  /** The gateways as admins see them: also whether each has an events password. */
  readonly listing: Effect.Effect<ReadonlyArray<GatewayListing>, DatabaseUnavailable>
  /** The stored hash of a gateway's events password: null when none is set, undefined when no such gateway. */
  readonly eventsPasswordHash: (name: string) => Effect.Effect<string | null | undefined, DatabaseUnavailable>
  /** What is assigned where, leaving out room row `exceptRoom` (a room being moved). */
  readonly assigned: (exceptRoom?: number) => Effect.Effect<ReadonlyArray<AssignedRooms>, DatabaseUnavailable>
  /** `list` and `assigned` in one round trip: what a placement reads while it holds the placement lock. */
  readonly placementView: (exceptRoom?: number) => Effect.Effect<{
    readonly gateways: ReadonlyArray<GatewayRow>
    readonly assigned: ReadonlyArray<AssignedRooms>
  }, DatabaseUnavailable>
  /** Live sessions per gateway (gateways without any left out). */
  readonly usersOn: Effect.Effect<ReadonlyArray<{ readonly gateway: string; readonly users: number }>, DatabaseUnavailable>
  /**
   * Runs `body` in a transaction holding the deployment-wide placement lock:
   * what is read inside it stays current until it commits, so rooms placed
   * at the same time (in any process) never overcommit a gateway.
   */
  readonly exclusively: <A, E, R>(body: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseUnavailable, R>
  /** Registers a gateway; undefined when the name is taken. */
  readonly create: (gateway: Omit<GatewayRow, "online"> & EventsPassword) => Effect.Effect<GatewayRow | undefined, DatabaseUnavailable>
  /**
   * Records a gateway's status. Its status time moves only when the status
   * changes: a retained message delivered again does not restart the wait.
   */
  readonly setOnline: (name: string, online: boolean | null) => Effect.Effect<"changed" | "unchanged" | "unknown", DatabaseUnavailable>
  /** Gateways offline for at least `ms` that still have rooms assigned. */
  readonly downSince: (ms: number) => Effect.Effect<ReadonlyArray<string>, DatabaseUnavailable>
  /** Ids of the rooms assigned to a gateway. */
  readonly roomsOn: (name: string) => Effect.Effect<ReadonlyArray<RoomId>, DatabaseUnavailable>
  /** Changes an admin's settings of a gateway; undefined when there is none. */
  readonly update: (name: string, patch: GatewayPatch & EventsPassword) => Effect.Effect<GatewayRow | undefined, DatabaseUnavailable>
}>()("room-orchestrator/GatewayStore") {
  static readonly layer = Layer.effect(GatewayStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const columns = sql`name, description, capacity, region, enabled, draining, online`

    // A gateway row that does not decode is left out and logged: the others still serve.
    const decodeAll = (rows: ReadonlyArray<unknown>) =>
      Effect.forEach(rows, (raw) =>
        decodeGateway(raw).pipe(
          Effect.map((g): ReadonlyArray<GatewayRow> => [g]),
          Effect.catch((e) => Effect.as(Effect.logWarning("Skipped a stored row that cannot be read").pipe(Effect.annotateLogs({ problem: e.message })), []))
        )).pipe(Effect.map((lists) => lists.flat()))

    const list = sql`SELECT ${columns} FROM gateways ORDER BY id`.pipe(unavailable("GatewayStore.list"), Effect.flatMap(decodeAll))

    const listing = sql`
      SELECT ${columns}, events_password_hash IS NOT NULL AS "eventsPasswordSet" FROM gateways ORDER BY id`.pipe(
      unavailable("GatewayStore.listing"),
      Effect.flatMap((rows) =>
        Effect.map(decodeAll(rows), (gateways) =>
          gateways.map((g): GatewayListing => ({
            ...g,
            eventsPasswordSet: (rows as ReadonlyArray<{ name: string; eventsPasswordSet: boolean }>).find((r) => r.name === g.name)?.eventsPasswordSet === true
          }))))
    )

    const eventsPasswordHash = (name: string) =>
      sql<{ hash: string | null }>`SELECT events_password_hash AS hash FROM gateways WHERE name = ${name}`.pipe(
        Effect.map((rows) => rows[0]?.hash),
        unavailable("GatewayStore.eventsPasswordHash")
      )

    const assigned = (exceptRoom = 0) =>
      sql<AssignedRooms>`
        SELECT gateway_name AS gateway, users, count(*)::int AS rooms
        FROM room_server_assignments WHERE room_id <> ${exceptRoom}
        GROUP BY gateway_name, users`.pipe(unavailable("GatewayStore.assigned"))

    const decodeAssigned = Schema.decodeUnknownEffect(Schema.Array(AssignedRoomsSchema))
    const placementView = (exceptRoom = 0) =>
      sql<{ gateways: unknown; assigned: unknown }>`
        SELECT
          (SELECT COALESCE(json_agg(json_build_object(
             'name', name, 'description', description, 'capacity', capacity, 'region', region,
             'enabled', enabled, 'draining', draining, 'online', online) ORDER BY id), '[]'::json)
           FROM gateways) AS gateways,
          (SELECT COALESCE(json_agg(json_build_object('gateway', gateway_name, 'users', users, 'rooms', rooms)), '[]'::json)
           FROM (SELECT gateway_name, users, count(*)::int AS rooms FROM room_server_assignments
                 WHERE room_id <> ${exceptRoom} GROUP BY gateway_name, users) a) AS assigned`.pipe(
        unavailable("GatewayStore.placementView"),
        Effect.flatMap(([row]) =>
          Effect.all({
            gateways: decodeAll(Array.isArray(row?.gateways) ? row.gateways : []),
            assigned: decodeAssigned(row?.assigned ?? []).pipe(
              Effect.mapError((e) => new DatabaseUnavailable({ operation: "GatewayStore.placementView", reason: e.message }))
            )
          }))
      )

    const usersOn = sql<{ gateway: string; users: number }>`
      SELECT g.name AS gateway, count(*)::int AS users
      FROM sessions s JOIN gateways g ON g.id = s.gateway_id
      WHERE s.removed_at IS NULL GROUP BY g.name`.pipe(unavailable("GatewayStore.usersOn"))

    const exclusively = <A, E, R>(body: Effect.Effect<A, E, R>) =>
      sql.withTransaction(
        sql`SELECT pg_advisory_xact_lock(${placementLock})`.pipe(unavailable("GatewayStore.exclusively"), Effect.andThen(body))
      ).pipe(unavailableIn("GatewayStore.exclusively"))

    const one = (rows: ReadonlyArray<unknown>) => (rows[0] === undefined ? Effect.succeed(undefined) : Effect.map(decodeAll([rows[0]]), (g) => g[0]))

    const create = (g: Omit<GatewayRow, "online"> & EventsPassword) =>
      sql`
        INSERT INTO gateways (name, description, capacity, region, enabled, draining, events_password_hash)
        VALUES (${g.name}, ${g.description}, ${g.capacity}, ${g.region}, ${g.enabled}, ${g.draining}, ${g.eventsPasswordHash ?? null})
        ON CONFLICT (name) DO NOTHING
        RETURNING ${columns}`.pipe(unavailable("GatewayStore.create"), Effect.flatMap(one))

    const update = (name: string, p: GatewayPatch & EventsPassword) =>
      sql`
        UPDATE gateways SET
          description = COALESCE(${p.description ?? null}, description),
          capacity = CASE WHEN ${p.capacity !== undefined} THEN ${p.capacity ?? null}::int ELSE capacity END,
          region = CASE WHEN ${p.region !== undefined} THEN ${p.region ?? null} ELSE region END,
          enabled = COALESCE(${p.enabled ?? null}, enabled),
          draining = COALESCE(${p.draining ?? null}, draining),
          events_password_hash = CASE WHEN ${p.eventsPasswordHash !== undefined} THEN ${p.eventsPasswordHash ?? null} ELSE events_password_hash END,
          updated_at = now()
        WHERE name = ${name}
        RETURNING ${columns}`.pipe(unavailable("GatewayStore.update"), Effect.flatMap(one))

    // The row lock orders concurrent reports: exactly one sees the change.
    const setOnline = (name: string, online: boolean | null) =>
      sql<{ changed: boolean }>`
        UPDATE gateways g SET online = ${online},
          status_at = CASE WHEN old.online IS DISTINCT FROM ${online} THEN now() ELSE g.status_at END
        FROM (SELECT id, online FROM gateways WHERE name = ${name} FOR UPDATE) old
        WHERE g.id = old.id
        RETURNING old.online IS DISTINCT FROM ${online} AS changed`.pipe(
        Effect.map((rows) => (rows[0] === undefined ? "unknown" as const : rows[0].changed ? "changed" as const : "unchanged" as const)),
        unavailable("GatewayStore.setOnline")
      )

    const downSince = (ms: number) =>
      sql<{ name: string }>`
        SELECT g.name FROM gateways g
        WHERE g.online = false AND g.status_at <= now() - make_interval(secs => ${ms / 1000})
          AND EXISTS (SELECT 1 FROM room_server_assignments a WHERE a.gateway_name = g.name)
        ORDER BY g.name`.pipe(
        Effect.map((rows) => rows.map((r) => r.name)),
        unavailable("GatewayStore.downSince")
      )

    const roomsOn = (name: string) =>
      sql<{ room: RoomId }>`
        SELECT r.room FROM room_server_assignments a JOIN rooms r ON r.id = a.room_id
        WHERE a.gateway_name = ${name} ORDER BY r.room`.pipe(
        Effect.map((rows) => rows.map((r) => r.room)),
        unavailable("GatewayStore.roomsOn")
      )

    return { list, listing, eventsPasswordHash, assigned, placementView, usersOn, exclusively, create, update, setOnline, downSince, roomsOn }
  }))
}
