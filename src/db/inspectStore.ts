// Every room's machine as stored, for inspection: state, gateway, sessions,
// pending timers and last transition, read from Postgres so the answer is
// the same whichever process serves it. Read-only.
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient, SqlSchema } from "effect/sql"
import { DatabaseUnavailable } from "../domain/errors.ts"

const Millis = Schema.NullOr(Schema.Number)

export const MachineRow = Schema.Struct({
  /** The room's internal row id: the paging cursor. */
  id: Schema.Number,
  /** The room id as text (numeric today, opaque string ids tomorrow). */
  room: Schema.String,
  name: Schema.String,
  disabled: Schema.Boolean,
  state: Schema.String,
  gateway: Schema.NullOr(Schema.String),
  region: Schema.NullOr(Schema.String),
  sessions: Schema.Number,
  /** The stored machine's pending timers by id (null: none stored yet); see `storedTimers`. */
  timers: Schema.NullOr(Schema.Record(Schema.String, Schema.Unknown)),
  seq: Schema.Number,
  updated: Millis,
  last_seq: Schema.NullOr(Schema.Number),
  last_from: Schema.NullOr(Schema.String),
  last_event: Schema.NullOr(Schema.String),
  last_to: Schema.NullOr(Schema.String),
  last_gateway: Schema.NullOr(Schema.String),
  last_at: Millis
})
export type MachineRow = typeof MachineRow.Type

const StoredTimer = Schema.Struct({ at: Schema.Number, event: Schema.Struct({ type: Schema.String }) })
const isStoredTimer = Schema.is(StoredTimer)

/** A row's pending timers; an entry not shaped as a timer (a hand-edited snapshot) is left out rather than failing the listing. */
export const storedTimers = (row: Pick<MachineRow, "timers">): Readonly<Record<string, typeof StoredTimer.Type>> =>
  Object.fromEntries(Object.entries(row.timers ?? {}).filter((entry): entry is [string, typeof StoredTimer.Type] => isStoredTimer(entry[1])))

export const HistoryRow = Schema.Struct({
  seq: Schema.Number,
  from: Schema.String,
  event: Schema.String,
  to: Schema.String,
  gateway: Schema.NullOr(Schema.String),
  /** Sessions the room counted after the step (unknown for rows older than that column). */
  sessions: Schema.NullOr(Schema.Number),
  at: Schema.Number
})
export type HistoryRow = typeof HistoryRow.Type

const StateCount = Schema.Struct({ state: Schema.String, rooms: Schema.Number })

export interface MachineQuery {
  /** The machine's initial state: what a room that never ran is in. */
  readonly initial: string
  readonly state?: string | undefined
  readonly gateway?: string | undefined
  /** One room, by its id. */
  readonly room?: string | undefined
  /** A piece of the room id or name, any case. */
  readonly search?: string | undefined
  /** Rows after this internal id. */
  readonly after: number
  readonly limit: number
}

export class InspectStore extends Context.Service<InspectStore, {
  /** Rooms ordered by their internal id: at most `limit`, and whether more follow. */
  readonly machines: (query: MachineQuery) => Effect.Effect<{ readonly rows: ReadonlyArray<MachineRow>; readonly more: boolean }, DatabaseUnavailable>
  /** Rooms per state, over every room. */
  readonly counts: (initial: string) => Effect.Effect<Readonly<Record<string, number>>, DatabaseUnavailable>
  /** A room's transitions, newest first; undefined when there is no such room. */
  readonly history: (room: string, limit: number) => Effect.Effect<ReadonlyArray<HistoryRow> | undefined, DatabaseUnavailable>
}>()("room-orchestrator/InspectStore") {
  static readonly layer = Layer.effect(InspectStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    // Timestamps leave as epoch milliseconds, whatever the driver makes of timestamptz.
    const millis = (column: string) => sql.literal(`(extract(epoch FROM ${column}) * 1000)::float8`)
    // The machine's own view (its snapshot) first; the assignment row for a room that has none yet.
    const context = (field: string) => sql.literal(`s.snapshot #>> '{context,${field}}'`)

    const failed = (what: string) => (e: { readonly message: string }) =>
      new DatabaseUnavailable({ operation: `InspectStore: ${what}`, reason: e.message })

    const selectMachines = SqlSchema.findAll({
      Request: Schema.Any as Schema.Codec<MachineQuery>,
      Result: MachineRow,
      execute: (q) => {
        const filters = [
          sql`m.id > ${q.after}`,
          ...(q.state === undefined ? [] : [sql`m.state = ${q.state}`]),
          ...(q.gateway === undefined ? [] : [sql`m.gateway = ${q.gateway}`]),
          ...(q.room === undefined ? [] : [sql`m.room = ${q.room}`]),
          ...(q.search === undefined ? [] : [sql`strpos(lower(m.room || ' ' || m.name), lower(${q.search})) > 0`])
        ]
        return sql`
          SELECT m.*, t.seq AS last_seq, t.from_state AS last_from, t.event AS last_event, t.to_state AS last_to,
                 t.gateway_name AS last_gateway, ${millis("t.at")} AS last_at
          FROM (
            SELECT r.id::int AS id, r.room::text AS room, r.name, r.disabled,
                   COALESCE(s.state, ${q.initial}) AS state,
                   COALESCE(${context("gateway")}, a.gateway_name) AS gateway,
                   COALESCE(${context("region")}, a.region) AS region,
                   COALESCE(CASE WHEN jsonb_typeof(s.snapshot #> '{context,sessions}') = 'array'
                                 THEN jsonb_array_length(s.snapshot #> '{context,sessions}') END, a.users, 0)::int AS sessions,
                   s.snapshot -> 'timers' AS timers,
                   COALESCE(s.seq, 0)::int AS seq,
                   ${millis("s.updated_at")} AS updated
            FROM rooms r
            LEFT JOIN room_snapshots s ON s.room_id = r.id
            LEFT JOIN room_server_assignments a ON a.room_id = r.id
            WHERE r.removed_at IS NULL
          ) m
          LEFT JOIN LATERAL (
            SELECT seq, from_state, event, to_state, gateway_name, at FROM room_transitions
            WHERE room_id = m.id ORDER BY seq DESC LIMIT 1
          ) t ON true
          WHERE ${sql.and(filters)}
          ORDER BY m.id
          LIMIT ${q.limit + 1}`
      }
    })

    const machines = (q: MachineQuery) =>
      selectMachines(q).pipe(
        Effect.map((rows) => ({ rows: rows.slice(0, q.limit), more: rows.length > q.limit })),
        Effect.mapError(failed("could not list room machines"))
      )

    const selectCounts = SqlSchema.findAll({
      Request: Schema.String,
      Result: StateCount,
      execute: (initial) => sql`
        SELECT COALESCE(s.state, ${initial}) AS state, count(*)::int AS rooms
        FROM rooms r LEFT JOIN room_snapshots s ON s.room_id = r.id
        WHERE r.removed_at IS NULL
        GROUP BY 1 ORDER BY 1`
    })

    const counts = (initial: string) =>
      selectCounts(initial).pipe(
        Effect.map((rows) => Object.fromEntries(rows.map((r) => [r.state, r.rooms]))),
        Effect.mapError(failed("could not count room machines"))
      )

    const findRoom = SqlSchema.findAll({
      Request: Schema.String,
      Result: Schema.Struct({ id: Schema.Number }),
      execute: (room) => sql`SELECT id::int AS id FROM rooms WHERE room::text = ${room} AND removed_at IS NULL`
    })

    const selectHistory = SqlSchema.findAll({
      Request: Schema.Struct({ id: Schema.Number, limit: Schema.Number }),
      Result: HistoryRow,
      execute: ({ id, limit }) => sql`
        SELECT seq, from_state AS "from", event, to_state AS "to", gateway_name AS gateway, sessions, ${millis("at")} AS at
        FROM room_transitions WHERE room_id = ${id}
        ORDER BY seq DESC LIMIT ${limit}`
    })

    const history = (room: string, limit: number) =>
      Effect.gen(function*() {
        const [found] = yield* findRoom(room)
        if (found === undefined) return undefined
        return yield* selectHistory({ id: found.id, limit })
      }).pipe(Effect.mapError(failed(`could not read room ${room}'s history`)))

    return { machines, counts, history }
  }))
}
