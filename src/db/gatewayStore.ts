// Gateways, their load counters and what is assigned to them, as the
// balancer and admins see them. The counters are written by the rooms' own
// steps (RoomStore); here they are read, and reconciled with the assignments.
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { DatabaseUnavailable } from "../domain/errors.ts"
import type { RoomId } from "../domain/room.ts"
import { decodeRow, unavailable, unavailableIn } from "./queryFailures.ts"

const GatewayRowSchema = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  capacity: Schema.NullOr(Schema.Number),
  region: Schema.NullOr(Schema.String),
  enabled: Schema.Boolean,
  cordoned: Schema.Boolean,
  online: Schema.NullOr(Schema.Boolean)
})
export type GatewayRow = typeof GatewayRowSchema.Type

/** A gateway's load counter, its rooms, and how much of the load young rooms reserve for their expected sizes. */
const GatewayLoadSchema = Schema.Struct({ gateway: Schema.String, load: Schema.Number, rooms: Schema.Number, reserved: Schema.Number })
export type GatewayLoadRow = typeof GatewayLoadSchema.Type

/** A counter that did not hold the sum of its gateway's assignments. */
export interface CounterDrift {
  readonly gateway: string
  readonly counted: number
  readonly actual: number
}

export type GatewayPatch = { readonly [K in "description" | "capacity" | "region" | "enabled" | "cordoned"]?: GatewayRow[K] | undefined }

/** A gateway's events credentials: the hash of its password (null: none set). */
export interface EventsPassword {
  /** Only the hash is stored; null when no password is set. */
  readonly eventsPasswordHash?: string | null | undefined
}

export interface GatewayListing extends GatewayRow {
  readonly eventsPasswordSet: boolean
}


const decodeGateway = decodeRow(GatewayRowSchema, "gateways", (raw) => `name=${String((raw as { name?: unknown }).name)}`)

export class GatewayStore extends Context.Service<GatewayStore, {
  readonly list: Effect.Effect<ReadonlyArray<GatewayRow>, DatabaseUnavailable>
  /** The gateways as admins see them: also whether each has an events password. */
  readonly listing: Effect.Effect<ReadonlyArray<GatewayListing>, DatabaseUnavailable>
  /** The stored hash of a gateway's events password: null when none is set, undefined when no such gateway. */
  readonly eventsPasswordHash: (name: string) => Effect.Effect<string | null | undefined, DatabaseUnavailable>
  /** Every gateway's load counter and rooms (gateways with neither left out). */
  readonly loads: Effect.Effect<ReadonlyArray<GatewayLoadRow>, DatabaseUnavailable>
  /**
   * `list` and every load counter in one round trip, the load room row
   * `exceptRoom` adds left out (a room being moved): what placement chooses from.
   */
  readonly placementView: (exceptRoom?: number) => Effect.Effect<{
    readonly gateways: ReadonlyArray<GatewayRow>
    readonly loads: ReadonlyMap<string, number>
  }, DatabaseUnavailable>
  /**
   * Sets every load counter to the sum of its gateway's assignments,
   * holding the counters meanwhile (a step that would change one waits);
   * answers those that differed.
   */
  readonly reconcile: Effect.Effect<ReadonlyArray<CounterDrift>, DatabaseUnavailable>
  /** Live sessions per gateway (gateways without any left out). */
  readonly usersOn: Effect.Effect<ReadonlyArray<{ readonly gateway: string; readonly users: number }>, DatabaseUnavailable>
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
    const columns = sql`name, description, capacity, region, enabled, draining AS cordoned, online`

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

    const decodeLoads = Schema.decodeUnknownEffect(Schema.Array(GatewayLoadSchema))
    const loads = sql`
      SELECT COALESCE(l.gateway_name, a.gateway_name) AS gateway, COALESCE(l.load, 0) AS load, COALESCE(a.rooms, 0) AS rooms,
             COALESCE(a.reserved, 0) AS reserved
      FROM gateway_loads l
      FULL JOIN (SELECT gateway_name, count(*)::int AS rooms, sum(reserved)::int AS reserved FROM room_server_assignments GROUP BY gateway_name) a
        ON a.gateway_name = l.gateway_name
      WHERE COALESCE(l.load, 0) <> 0 OR COALESCE(a.rooms, 0) <> 0`.pipe(
      unavailable("GatewayStore.loads"),
      Effect.flatMap((rows) =>
        decodeLoads(rows).pipe(Effect.mapError((e) => new DatabaseUnavailable({ operation: "GatewayStore.loads", reason: e.message }))))
    )

    const placementView = (exceptRoom = 0) =>
      sql<{ gateways: unknown; loads: unknown }>`
        SELECT
          (SELECT COALESCE(json_agg(json_build_object(
             'name', name, 'description', description, 'capacity', capacity, 'region', region,
             'enabled', enabled, 'cordoned', draining, 'online', online) ORDER BY id), '[]'::json)
           FROM gateways) AS gateways,
          (SELECT COALESCE(json_object_agg(l.gateway_name, l.load - COALESCE(own.load, 0)), '{}'::json)
           FROM gateway_loads l
           LEFT JOIN room_server_assignments own ON own.room_id = ${exceptRoom} AND own.gateway_name = l.gateway_name) AS loads`.pipe(
        unavailable("GatewayStore.placementView"),
        Effect.flatMap(([row]) =>
          Effect.map(decodeAll(Array.isArray(row?.gateways) ? row.gateways : []), (gateways) => ({
            gateways,
            loads: new Map(Object.entries((row?.loads ?? {}) as Record<string, number>).map(([g, l]) => [g, Number(l)]))
          })))
      )

    // The counters are locked first (a step changing one waits), then summed
    // from the assignments every committed step left: the two agree unless
    // a counter drifted.
    const reconcile = sql.withTransaction(Effect.gen(function*() {
      yield* sql`SELECT gateway_name FROM gateway_loads ORDER BY gateway_name FOR UPDATE`
      return yield* sql<CounterDrift>`
        WITH sums AS (SELECT gateway_name, sum(load)::int AS load FROM room_server_assignments GROUP BY gateway_name),
        drift AS (
          SELECT COALESCE(l.gateway_name, s.gateway_name) AS gateway, COALESCE(l.load, 0) AS counted, COALESCE(s.load, 0) AS actual
          FROM gateway_loads l FULL JOIN sums s ON s.gateway_name = l.gateway_name
          WHERE COALESCE(l.load, 0) <> COALESCE(s.load, 0)),
        fixed AS (
          INSERT INTO gateway_loads (gateway_name, load) SELECT gateway, actual FROM drift
          ON CONFLICT (gateway_name) DO UPDATE SET load = EXCLUDED.load)
        SELECT gateway, counted, actual FROM drift ORDER BY gateway`
    })).pipe(unavailableIn("GatewayStore.reconcile"))

    const usersOn = sql<{ gateway: string; users: number }>`
      SELECT g.name AS gateway, count(*)::int AS users
      FROM sessions s JOIN gateways g ON g.id = s.gateway_id
      WHERE s.removed_at IS NULL GROUP BY g.name`.pipe(unavailable("GatewayStore.usersOn"))

    const one = (rows: ReadonlyArray<unknown>) => (rows[0] === undefined ? Effect.succeed(undefined) : Effect.map(decodeAll([rows[0]]), (g) => g[0]))

    const create = (g: Omit<GatewayRow, "online"> & EventsPassword) =>
      sql`
        INSERT INTO gateways (name, description, capacity, region, enabled, draining, events_password_hash)
        VALUES (${g.name}, ${g.description}, ${g.capacity}, ${g.region}, ${g.enabled}, ${g.cordoned}, ${g.eventsPasswordHash ?? null})
        ON CONFLICT (name) DO NOTHING
        RETURNING ${columns}`.pipe(unavailable("GatewayStore.create"), Effect.flatMap(one))

    const update = (name: string, p: GatewayPatch & EventsPassword) =>
      sql`
        UPDATE gateways SET
          description = COALESCE(${p.description ?? null}, description),
          capacity = CASE WHEN ${p.capacity !== undefined} THEN ${p.capacity ?? null}::int ELSE capacity END,
          region = CASE WHEN ${p.region !== undefined} THEN ${p.region ?? null} ELSE region END,
          enabled = COALESCE(${p.enabled ?? null}, enabled),
          draining = COALESCE(${p.cordoned ?? null}, draining),
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

    return { list, listing, eventsPasswordHash, loads, placementView, reconcile, usersOn, create, update, setOnline, downSince, roomsOn }
  }))
}
