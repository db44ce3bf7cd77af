// Rooms as the catalog (the "factory settings"): id, name, default
// gateway, region, join code, flags, extra. Read whole into memory by RoomCatalog.
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError, type Statement } from "effect/sql"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import type { RoomId } from "../domain/room.ts"
import { decodeRow, idOf, unavailable } from "./queryFailures.ts"

/** `gxydb`: a configured room, listed by /groups and /rooms; `meeting`: created by its users (seed 003), listed only when asked. */
export const RoomKind = Schema.Literals(["gxydb", "meeting"])
export type RoomKind = typeof RoomKind.Type

const CatalogRowSchema = Schema.Struct({
  id: Schema.Number,
  room: Schema.String,
  name: Schema.String,
  kind: RoomKind,
  region: Schema.NullOr(Schema.String),
  /** gxydb-api's free-form room data (JSON), null when never set. */
  extra: Schema.Unknown,
  joinCode: Schema.String,
  disabled: Schema.Boolean,
  /** Seed 003's flag: a user must be let in before joining (stored and shown). */
  requireAccessBeforeJoining: Schema.Boolean,
  defaultGatewayId: Schema.NullOr(Schema.Number),
  /** NULL when the default gateway is unset or does not exist. */
  defaultGateway: Schema.NullOr(Schema.String),
  defaultGatewayEnabled: Schema.NullOr(Schema.Boolean),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
})
export type CatalogRow = typeof CatalogRowSchema.Type

const decodeCatalogRow = decodeRow(CatalogRowSchema, "rooms", idOf)

export interface RoomInput {
  readonly room: RoomId
  readonly name: string
  readonly extra: unknown
  readonly defaultGateway: string | null
  readonly region: string | null
  readonly disabled: boolean
  readonly joinCode: string
  readonly requireAccessBeforeJoining?: boolean | undefined
  /** `gxydb` unless said. */
  readonly kind?: RoomKind | undefined
}

export type RoomPatch = Partial<Omit<RoomInput, "room" | "joinCode" | "requireAccessBeforeJoining" | "kind">>

/** JSON text for a jsonb parameter; SQL NULL for null/undefined. */
export const jsonOrNull = (value: unknown): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value)

/** Why a write was refused. */
export type RoomWriteProblem = "exists" | "unknown gateway" | "join code taken" | "not found"

export class CatalogStore extends Context.Service<CatalogStore, {
  /** Every room; a row that cannot be read is skipped and logged, naming it, so the others still load. */
  readonly rooms: Effect.Effect<ReadonlyArray<CatalogRow>, DatabaseUnavailable>
  /**
   * A value that changes whenever a room or gateway row is inserted, changed
   * or deleted, by this service or by hand (the tables' row counts and the
   * sums of their rows' transaction ids): a reader that has seen it need not
   * read every row again while it stays the same.
   */
  readonly fingerprint: Effect.Effect<string, DatabaseUnavailable>
  /** Live sessions per room row id (gxydb-api counts connections, not distinct users), and whether any has a question. */
  readonly userCounts: Effect.Effect<ReadonlyMap<number, { readonly users: number; readonly questions: boolean }>, DatabaseUnavailable>
  readonly create: (input: RoomInput) => Effect.Effect<CatalogRow | RoomWriteProblem, DatabaseUnavailable>
  readonly update: (room: RoomId, patch: RoomPatch) => Effect.Effect<CatalogRow | RoomWriteProblem, DatabaseUnavailable>
  /** Marks the room removed (its history stays). */
  readonly remove: (room: RoomId) => Effect.Effect<boolean, DatabaseUnavailable>
  /**
   * Deletes meeting rooms nobody has been in since `before` (no live
   * session, no assignment, nothing stored for them since), with their
   * history and closed sessions; answers their ids.
   */
  readonly removeIdleMeetings: (before: Date) => Effect.Effect<ReadonlyArray<RoomId>, DatabaseUnavailable>
}>()("room-orchestrator/CatalogStore") {
  static readonly layer = Layer.effect(CatalogStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const select = (where: Statement.Fragment) =>
      sql`
        SELECT r.id::int AS id, r.room, r.name, r.kind, r.region, r.extra, r.join_code AS "joinCode", r.disabled,
               r.require_access_before_joining AS "requireAccessBeforeJoining",
               r.default_gateway_id::int AS "defaultGatewayId", g.name AS "defaultGateway",
               g.enabled AS "defaultGatewayEnabled", r.created_at AS "createdAt", r.updated_at AS "updatedAt"
        FROM rooms r LEFT JOIN gateways g ON g.id = r.default_gateway_id
        WHERE r.removed_at IS NULL AND ${where}
        ORDER BY r.room`.pipe(
        unavailable("CatalogStore.rooms"),
        Effect.flatMap((rows) =>
          Effect.forEach(rows, (raw) =>
            decodeCatalogRow(raw).pipe(
              Effect.map((row): ReadonlyArray<CatalogRow> => [row]),
              Effect.catch((e) =>
                Effect.as(Effect.logWarning("Skipped a stored row that cannot be read").pipe(Effect.annotateLogs({ table: e.table, row: e.row, problem: e.problem })), [])
              )
            ))),
        Effect.map((lists) => lists.flat())
      )

    const rooms = select(sql`true`)
    const one = (room: RoomId) => Effect.map(select(sql`r.room = ${room}`), (rows) => rows[0])

    const fingerprint = sql<{ fingerprint: string }>`
      SELECT (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM rooms) || '/' ||
             (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM gateways) AS fingerprint`.pipe(
      Effect.map((rows) => String(rows[0]?.fingerprint)),
      unavailable("CatalogStore.fingerprint")
    )

    const userCounts = sql<{ roomId: number; users: number; questions: boolean }>`
      SELECT room_id::int AS "roomId", count(*)::int AS users, bool_or(question) AS questions
      FROM sessions WHERE removed_at IS NULL AND room_id IS NOT NULL GROUP BY room_id`.pipe(
      Effect.map((rows) => new Map(rows.map((r) => [r.roomId, { users: r.users, questions: r.questions }]))),
      unavailable("CatalogStore.userCounts")
    )

    const gatewayId = (name: string | null) =>
      name === null
        ? Effect.succeed<number | null | undefined>(null)
        : sql<{ id: number }>`SELECT id::int AS id FROM gateways WHERE name = ${name}`.pipe(
          Effect.map((rows) => rows[0]?.id),
          unavailable("CatalogStore.gatewayId")
        )

    // Unique violations become the problem they mean; anything else is the database failing.
    const refusing = <A>(write: Effect.Effect<A, SqlError.SqlError>) =>
      write.pipe(
        Effect.catchIf(
          (e) => e.reason._tag === "UniqueViolation",
          (e) => Effect.succeed<RoomWriteProblem>((e.reason as { constraint?: string }).constraint === "rooms_join_code_key" ? "join code taken" : "exists")
        ),
        unavailable("CatalogStore.write")
      )

    const create = (input: RoomInput) =>
      Effect.gen(function*() {
        const gateway = yield* gatewayId(input.defaultGateway)
        if (gateway === undefined) return "unknown gateway" as const
        const write = sql`
          INSERT INTO rooms (room, name, default_gateway_id, region, disabled, join_code, extra, require_access_before_joining, kind)
          VALUES (${input.room}, ${input.name}, ${gateway}, ${input.region}, ${input.disabled}, ${input.joinCode},
                  ${jsonOrNull(input.extra)}::jsonb, ${input.requireAccessBeforeJoining ?? false}, ${input.kind ?? "gxydb"})`
        const outcome = yield* refusing(write)
        if (typeof outcome === "string") return outcome
        return (yield* one(input.room))!
      })

    const update = (room: RoomId, patch: RoomPatch) =>
      Effect.gen(function*() {
        const current = yield* one(room)
        if (current === undefined) return "not found" as const
        const gateway = patch.defaultGateway === undefined ? current.defaultGatewayId : yield* gatewayId(patch.defaultGateway)
        if (gateway === undefined) return "unknown gateway" as const
        yield* sql`
          UPDATE rooms SET
            name = ${patch.name ?? current.name},
            default_gateway_id = ${gateway},
            region = ${patch.region === undefined ? current.region : patch.region},
            disabled = ${patch.disabled ?? current.disabled},
            extra = ${patch.extra === undefined ? jsonOrNull(current.extra) : jsonOrNull(patch.extra)}::jsonb,
            updated_at = now()
          WHERE id = ${current.id}`.pipe(unavailable("CatalogStore.update"))
        return (yield* one(room))!
      })

    const remove = (room: RoomId) =>
      sql`UPDATE rooms SET removed_at = now(), updated_at = now() WHERE room = ${room} AND removed_at IS NULL RETURNING id`.pipe(
        Effect.map((rows) => rows.length > 0),
        unavailable("CatalogStore.remove")
      )

    // One statement: rooms whose last sign of use (the row, a session, the
    // machine's snapshot) is older than `before`, locked so a join racing
    // the sweep either lands first (and the room stays) or finds it gone.
    const removeIdleMeetings = (before: Date) =>
      sql<{ room: RoomId }>`
        WITH idle AS (
          SELECT r.id FROM rooms r
          WHERE r.kind = 'meeting' AND r.updated_at < ${before}
            AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.room_id = r.id
                            AND (s.removed_at IS NULL OR s.removed_at >= ${before} OR s.updated_at >= ${before}))
            AND NOT EXISTS (SELECT 1 FROM room_server_assignments a WHERE a.room_id = r.id)
            AND NOT EXISTS (SELECT 1 FROM room_snapshots m WHERE m.room_id = r.id AND (m.updated_at >= ${before} OR m.state <> 'idle'))
          FOR UPDATE OF r SKIP LOCKED),
        closed AS (DELETE FROM sessions WHERE room_id IN (SELECT id FROM idle))
        DELETE FROM rooms WHERE id IN (SELECT id FROM idle)
        RETURNING room`.pipe(
        Effect.map((rows) => rows.map((r) => r.room)),
        unavailable("CatalogStore.removeIdleMeetings")
      )

    return { rooms, fingerprint, userCounts, create, update, remove, removeIdleMeetings }
  }))
}
