// What operators list: live sessions (filtered by room, gateway or user) and
// room assignments (by gateway), each paged by its row id. Read-only: a
// session is closed by the sessions service and an assignment changed by its
// room's own step, never here.
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient, SqlSchema, type Statement } from "effect/sql"
import { DatabaseUnavailable } from "../domain/errors.ts"
import { memberFields } from "../domain/member.ts"

export const SessionRow = Schema.Struct({
  id: Schema.Number,
  user: Schema.String,
  room: Schema.String,
  gateway: Schema.NullOr(Schema.String),
  gateway_session: Schema.NullOr(Schema.Number),
  ...memberFields,
  /** Epoch milliseconds. */
  joined: Schema.Number,
  keepalive: Schema.Number
})
export type SessionRow = typeof SessionRow.Type

export const AssignmentRow = Schema.Struct({
  /** The room's internal row id: the paging cursor. */
  id: Schema.Number,
  room: Schema.String,
  gateway: Schema.String,
  region: Schema.NullOr(Schema.String),
  /** The room machine's state; null for a room no machine has loaded yet (an assignment made before this service). */
  state: Schema.NullOr(Schema.String),
  users: Schema.Number,
  assigned_at: Schema.Number,
  last_used_at: Schema.Number
})
export type AssignmentRow = typeof AssignmentRow.Type

export interface SessionQuery {
  readonly room?: string | undefined
  readonly gateway?: string | undefined
  readonly user?: string | undefined
  /** Rows after this session id. */
  readonly after: number
  readonly limit: number
}

export interface AssignmentQuery {
  readonly gateway?: string | undefined
  /** Rows after this room row id. */
  readonly after: number
  readonly limit: number
}

/** A page: at most `limit` rows, and whether more follow. */
export interface Page<A> {
  readonly rows: ReadonlyArray<A>
  readonly more: boolean
}

export class AdminStore extends Context.Service<AdminStore, {
  /** Live sessions ordered by id. */
  readonly sessions: (query: SessionQuery) => Effect.Effect<Page<SessionRow>, DatabaseUnavailable>
  /** One live session; undefined when there is none (or it is closed). */
  readonly session: (id: number) => Effect.Effect<SessionRow | undefined, DatabaseUnavailable>
  /** Assigned rooms ordered by their row id. */
  readonly assignments: (query: AssignmentQuery) => Effect.Effect<Page<AssignmentRow>, DatabaseUnavailable>
}>()("room-orchestrator/AdminStore") {
  static readonly layer = Layer.effect(AdminStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const millis = (column: string) => sql.literal(`(extract(epoch FROM ${column}) * 1000)::float8`)
    const failed = (what: string) => (e: { readonly message: string }) =>
      new DatabaseUnavailable({ operation: `AdminStore: ${what}`, reason: e.message })

    const selectSessions = (where: ReadonlyArray<Statement.Fragment>, limit: number) =>
      sql`
        SELECT s.id::float8 AS id, u.account_id AS "user", r.room::text AS room, g.name AS gateway,
               s.gateway_session::float8 AS gateway_session, s.gateway_feed AS rfid, s.display, s.country,
               s.ip_address AS ip, s.user_agent, s.camera, s.mic, s.screen, s.question,
               ${millis("s.created_at")} AS joined, ${millis("s.updated_at")} AS keepalive
        FROM sessions s
        JOIN users u ON u.id = s.user_id
        JOIN rooms r ON r.id = s.room_id
        LEFT JOIN gateways g ON g.id = s.gateway_id
        WHERE s.removed_at IS NULL AND r.removed_at IS NULL AND ${sql.and(where)}
        ORDER BY s.id
        LIMIT ${limit}`

    const findSessions = SqlSchema.findAll({
      Request: Schema.Any as Schema.Codec<SessionQuery>,
      Result: SessionRow,
      execute: (q) =>
        selectSessions([
          sql`s.id > ${q.after}`,
          ...(q.room === undefined ? [] : [sql`r.room = ${q.room}`]),
          ...(q.gateway === undefined ? [] : [sql`g.name = ${q.gateway}`]),
          ...(q.user === undefined ? [] : [sql`u.account_id = ${q.user}`])
        ], q.limit + 1)
    })

    const findSession = SqlSchema.findAll({
      Request: Schema.Number,
      Result: SessionRow,
      execute: (id) => selectSessions([sql`s.id = ${id}`], 1)
    })

    const findAssignments = SqlSchema.findAll({
      Request: Schema.Any as Schema.Codec<AssignmentQuery>,
      Result: AssignmentRow,
      execute: (q) => sql`
        SELECT r.id::float8 AS id, r.room::text AS room, a.gateway_name AS gateway, a.region, m.state, a.users,
               ${millis("a.assigned_at")} AS assigned_at, ${millis("a.last_used_at")} AS last_used_at
        FROM room_server_assignments a
        JOIN rooms r ON r.id = a.room_id
        LEFT JOIN room_snapshots m ON m.room_id = r.id
        WHERE r.removed_at IS NULL AND r.id > ${q.after} ${q.gateway === undefined ? sql`` : sql`AND a.gateway_name = ${q.gateway}`}
        ORDER BY r.id
        LIMIT ${q.limit + 1}`
    })

    const page = <A>(limit: number) => (rows: ReadonlyArray<A>): Page<A> => ({ rows: rows.slice(0, limit), more: rows.length > limit })

    return {
      sessions: (q) => findSessions(q).pipe(Effect.map(page(q.limit)), Effect.mapError(failed("could not list sessions"))),
      session: (id) => findSession(id).pipe(Effect.map((rows) => rows[0]), Effect.mapError(failed(`could not read session ${id}`))),
      assignments: (q) => findAssignments(q).pipe(Effect.map(page(q.limit)), Effect.mapError(failed("could not list assignments")))
    }
  }))
}
