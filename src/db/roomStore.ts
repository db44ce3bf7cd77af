// A room's stored lifecycle: its row, its machine snapshot, its history and
// its assignment. The assignment row is written only here, by the commit of
// the room's own step, together with the history rows and the snapshot.
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SessionOnGateway } from "../../machines/room.machine.ts"
import type { HistoryRow, RoomEffect, RoomSnapshot } from "../../machines/step.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import type { RoomId } from "../domain/room.ts"
import { decodeRow, idOf, StoredRowInvalid, unavailable, unavailableIn } from "./queryFailures.ts"

/** The stored room is not the one a write started from: another process (or a hand edit) changed it. */
export class StaleRoom extends Schema.TaggedError<StaleRoom>()("StaleRoom", {
  roomId: Schema.Number,
  version: Schema.NullOr(Schema.Number)
}) {}

const RoomRowSchema = Schema.Struct({
  id: Schema.Number,
  room: Schema.String,
  name: Schema.String,
  region: Schema.NullOr(Schema.String),
  disabled: Schema.Boolean
})
export type RoomRow = typeof RoomRowSchema.Type

const Timer = Schema.Struct({ event: Schema.Struct({ type: Schema.TemplateLiteral(["xstate.after.", Schema.String]) }), at: Schema.Number })

/** The snapshot column: what `machines/step.ts` keeps of a room. */
export const StoredSnapshot = Schema.Struct({
  state: Schema.Literals(["idle", "assigning", "assigned", "draining"]),
  context: Schema.Struct({
    room: Schema.String,
    gateway: Schema.NullOr(Schema.String),
    region: Schema.NullOr(Schema.String),
    country: Schema.NullOr(Schema.String),
    sessions: Schema.Array(Schema.String),
    avoid: Schema.NullOr(Schema.String),
    renewedAt: Schema.optionalKey(Schema.Number),
    touchedAt: Schema.optionalKey(Schema.Number),
    since: Schema.optionalKey(Schema.Number),
    // machines/expectedSize.ts (absent from snapshots stored before it)
    peak: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
    expected: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
    spread: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
    placedAt: Schema.optionalKey(Schema.Number)
  }),
  timers: Schema.Record(Schema.String, Timer),
  seq: Schema.optionalKey(Schema.Number)
})

const StoredMachine = Schema.Struct({ room_id: Schema.Number, seq: Schema.Number, version: Schema.Number, snapshot: StoredSnapshot })
const StoredVersion = Schema.Struct({ version: Schema.Number })
const decodeMachine = decodeRow(StoredMachine, "room_snapshots", (raw) => `room_id=${String((raw as { room_id?: unknown }).room_id)}`)

const StoredAssignment = Schema.Struct({ gateway: Schema.String, region: Schema.NullOr(Schema.String) })

const StoredSessions = Schema.Array(Schema.Struct({ session: Schema.String, gateway: Schema.String }))

export interface TransitionRow extends Omit<HistoryRow, "sessions"> {
  readonly sessions: number | null
  readonly at: Date
}

/** The snapshot as stored, with the version a write must name to replace it. */
export interface StoredMachineRow {
  /** What the snapshot column holds, or why it cannot be read. */
  readonly snapshot: RoomSnapshot | StoredRowInvalid
  readonly version: number
}

/** A room as its actor loads it. */
export interface StoredRoom {
  readonly row: RoomRow
  readonly machine: StoredMachineRow | undefined
  readonly assignment: { readonly gateway: string; readonly region: string | null } | null
  readonly sessions: ReadonlyArray<SessionOnGateway>
}

/** What one step (or a step and the balancer's answer) writes. */
export interface Commit {
  /** The version of the snapshot the step started from; null when none is stored. */
  readonly version: number | null
  readonly snapshot: RoomSnapshot
  /** When its earliest timer fires. */
  readonly deadline: Date | null
  readonly effects: ReadonlyArray<RoomEffect>
  /** The load the room adds to its gateway once its assignment is written (the balancer's rule, applied by the caller). */
  readonly load: number
  /** Of `load`, what the room's expected size reserves beyond its users (machines/expectedSize.ts). */
  readonly reserved: number
  /**
   * A placement's reservation: the step is written only if `gateway`'s
   * load counter still has room for the room (`load + need <= capacity`).
   * The room must not be on that gateway already.
   */
  readonly reserve?: { readonly gateway: string; readonly capacity: number } | undefined
}

/** A placement that found its gateway full: another room took the room it counted on. */
export class GatewayFull extends Schema.TaggedError<GatewayFull>()("GatewayFull", { gateway: Schema.String }) {}

export class RoomStore extends Context.Service<RoomStore, {
  /**
   * Everything a room's actor starts from, in one query: its row, its stored
   * snapshot and version (undefined: none stored), its assignment and its
   * live sessions; undefined when the room does not exist.
   */
  readonly loadRoom: (room: RoomId) => Effect.Effect<StoredRoom | undefined, DatabaseUnavailable | StoredRowInvalid>
  /** How many history rows the room has (a rebuilt snapshot continues after them). */
  readonly historyLength: (roomId: number) => Effect.Effect<number, DatabaseUnavailable>
  readonly loadAssignment: (roomId: number) => Effect.Effect<{ readonly gateway: string; readonly region: string | null } | null, DatabaseUnavailable>
  /** The room's live sessions with the gateway each is on, as the sessions table holds them. */
  readonly liveSessions: (roomId: number) => Effect.Effect<ReadonlyArray<SessionOnGateway>, DatabaseUnavailable>
  /** The gateway of every assigned room. */
  readonly assignments: Effect.Effect<ReadonlyMap<RoomId, string>, DatabaseUnavailable>
  /**
   * Writes a step's snapshot and effects, inside the caller's transaction;
   * answers the snapshot's new version. Fails with StaleRoom (writing
   * nothing once the transaction rolls back) when the stored version is no
   * longer the one the step started from.
   */
  readonly write: (roomId: number, commit: Commit) => Effect.Effect<number, DatabaseUnavailable | StaleRoom | GatewayFull>
  readonly transitions: (roomId: number) => Effect.Effect<ReadonlyArray<TransitionRow>, DatabaseUnavailable>
  /** Ids of rooms whose machine has a timer due at `now`. */
  readonly dueRooms: (now: Date) => Effect.Effect<ReadonlyArray<RoomId>, DatabaseUnavailable>
  /** Ids of rooms whose machine counts other sessions than the sessions table holds. */
  readonly miscounted: Effect.Effect<ReadonlyArray<RoomId>, DatabaseUnavailable>
}>()("room-orchestrator/RoomStore") {
  static readonly layer = Layer.effect(RoomStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodeRoom = decodeRow(RoomRowSchema, "rooms", idOf)
    const decodeAssignment = decodeRow(StoredAssignment, "room_server_assignments", () => "?")
    const decodeSessions = decodeRow(StoredSessions, "sessions", () => "?")
    const decodeVersion = decodeRow(StoredVersion, "room_snapshots", (raw) => `room_id=${String((raw as { room_id?: unknown }).room_id)}`)

    // The snapshot column as the machine reads it; an unreadable one is
    // reported with the version a rebuilt snapshot must replace.
    const readMachine = (raw: unknown): Effect.Effect<StoredMachineRow> =>
      decodeMachine(raw).pipe(
        Effect.map(({ seq, snapshot, version }): StoredMachineRow => ({
          snapshot: {
            state: snapshot.state,
            context: { renewedAt: 0, touchedAt: 0, since: 0, peak: 0, expected: 0, spread: 0, placedAt: 0, ...snapshot.context },
            timers: snapshot.timers,
            seq
          },
          version
        })),
        Effect.catch((invalid) => Effect.map(decodeVersion(raw), ({ version }) => ({ snapshot: invalid, version }))),
        Effect.catchTag("StoredRowInvalid", (e) => Effect.die(e))
      )

    const readAssignment = (raw: unknown) =>
      raw === null ? Effect.succeed(null) : decodeAssignment(raw).pipe(Effect.catchTag("StoredRowInvalid", () => Effect.succeed(null)))

    const loadRoom = (room: RoomId) =>
      sql<{ id: number; room: string; name: string; region: string | null; disabled: boolean; machine: unknown; assignment: unknown; sessions: unknown }>`
        SELECT r.id::int AS id, r.room, r.name, r.region, r.disabled,
          (SELECT json_build_object('room_id', m.room_id::int, 'seq', m.seq, 'version', m.version::int, 'snapshot', m.snapshot)
             FROM room_snapshots m WHERE m.room_id = r.id) AS machine,
          (SELECT json_build_object('gateway', a.gateway_name, 'region', a.region)
             FROM room_server_assignments a WHERE a.room_id = r.id) AS assignment,
          (SELECT COALESCE(json_agg(json_build_object('session', s.id::text, 'gateway', g.name) ORDER BY s.id), '[]'::json)
             FROM sessions s JOIN gateways g ON g.id = s.gateway_id
             WHERE s.room_id = r.id AND s.removed_at IS NULL) AS sessions
        FROM rooms r WHERE r.room = ${room} AND r.removed_at IS NULL`.pipe(
        unavailable("RoomStore.loadRoom"),
        Effect.flatMap(([raw]) =>
          raw === undefined ? Effect.succeed(undefined) : Effect.gen(function*() {
            const { machine, assignment, sessions, ...columns } = raw
            return {
              row: yield* decodeRoom(columns),
              machine: machine === null ? undefined : yield* readMachine(machine),
              assignment: yield* readAssignment(assignment),
              sessions: yield* decodeSessions(sessions)
            } satisfies StoredRoom
          }))
      )

    const historyLength = (roomId: number) =>
      sql<{ seq: number }>`SELECT COALESCE(max(seq), 0)::int AS seq FROM room_transitions WHERE room_id = ${roomId}`.pipe(
        Effect.map((rows) => rows[0]?.seq ?? 0),
        unavailable("RoomStore.historyLength")
      )

    const loadAssignment = (roomId: number) =>
      sql`SELECT gateway_name AS gateway, region FROM room_server_assignments WHERE room_id = ${roomId}`.pipe(
        unavailable("RoomStore.loadAssignment"),
        Effect.flatMap((rows) => readAssignment(rows[0] ?? null))
      )

    const liveSessions = (roomId: number) =>
      sql<SessionOnGateway>`
        SELECT s.id::text AS session, g.name AS gateway
        FROM sessions s JOIN gateways g ON g.id = s.gateway_id
        WHERE s.room_id = ${roomId} AND s.removed_at IS NULL ORDER BY s.id`.pipe(unavailable("RoomStore.liveSessions"))

    const assignments = sql<{ room: RoomId; gateway: string }>`
      SELECT r.room, a.gateway_name AS gateway FROM room_server_assignments a JOIN rooms r ON r.id = a.room_id`.pipe(
      Effect.map((rows) => new Map(rows.map((r) => [r.room, r.gateway]))),
      unavailable("RoomStore.assignments")
    )

    // One statement writes a whole step, so it is atomic without a
    // transaction of its own and costs one round trip (a placement holds
    // the placement lock meanwhile). The snapshot comes first: its row lock
    // orders two writers of one room, and every other write happens only if
    // the snapshot's version was the one the step started from.
    const snapshotWrite = (roomId: number, c: Commit) => {
      const s = c.snapshot
      const json = JSON.stringify(s)
      // a placement's step is written only if its reservation held
      const reserved = c.reserve === undefined ? sql`` : sql`AND EXISTS (SELECT 1 FROM reserve)`
      return c.version === null
        ? sql`
          INSERT INTO room_snapshots (room_id, seq, state, snapshot, deadline_at, sessions, updated_at, version)
          SELECT ${roomId}, ${s.seq}, ${s.state}, ${json}::jsonb, ${c.deadline}, ${s.context.sessions.length}, now(), 1
          WHERE true ${reserved}
          ON CONFLICT (room_id) DO NOTHING
          RETURNING version`
        : sql`
          UPDATE room_snapshots SET
            seq = ${s.seq}, state = ${s.state}, snapshot = ${json}::jsonb, deadline_at = ${c.deadline},
            sessions = ${s.context.sessions.length}, updated_at = now(), version = version + 1
          WHERE room_id = ${roomId} AND version = ${c.version} ${reserved}
          RETURNING version`
    }

    const historyWrite = (roomId: number, rows: ReadonlyArray<HistoryRow>) =>
      sql`
        INSERT INTO room_transitions (room_id, seq, from_state, event, to_state, gateway_name, sessions)
        SELECT v.* FROM snap, (VALUES ${
        sql.join(", ", false)(rows.map((h) =>
          sql`(${roomId}::bigint, ${h.seq}::int, ${h.from}::text, ${h.event}::text, ${h.to}::text, ${h.gateway}::text, ${h.sessions}::int)`
        ))
      }) v`

    const assignmentWrite = (roomId: number, effect: AssignmentEffect, load: number, reserved: number) => {
      switch (effect._tag) {
        case "WriteAssignment":
          return sql`
            INSERT INTO room_server_assignments (room_id, gateway_name, region, users, load, reserved)
            SELECT ${roomId}, ${effect.gateway}, ${effect.region}, ${effect.users}, ${load}, ${reserved} FROM snap
            ON CONFLICT (room_id) DO UPDATE SET
              gateway_name = EXCLUDED.gateway_name,
              region = EXCLUDED.region,
              users = EXCLUDED.users,
              load = EXCLUDED.load,
              reserved = EXCLUDED.reserved,
              assigned_at = CASE WHEN room_server_assignments.gateway_name = EXCLUDED.gateway_name
                                 THEN room_server_assignments.assigned_at ELSE now() END,
              last_used_at = now()`
        case "TouchAssignment":
          return sql`UPDATE room_server_assignments SET last_used_at = now() WHERE room_id = ${roomId} AND EXISTS (SELECT 1 FROM snap)`
        case "ReleaseAssignment":
          return sql`DELETE FROM room_server_assignments WHERE room_id = ${roomId} AND EXISTS (SELECT 1 FROM snap)`
      }
    }

    // What the step changes in the gateways' load counters: the room's old
    // load off its old gateway, its new load onto its new one, as one
    // upsert per gateway (a row written twice in one statement is not
    // allowed). A reservation has added the new load already.
    const countersWrite = (roomId: number, assignment: AssignmentEffect, c: Commit) =>
      sql`
        old AS (SELECT gateway_name, load FROM room_server_assignments WHERE room_id = ${roomId}),
        deltas AS (
          SELECT gateway_name, sum(d)::int AS d FROM (
            SELECT gateway_name, -load AS d FROM old
            UNION ALL
            SELECT ${assignment._tag === "WriteAssignment" ? assignment.gateway : null}::text, ${c.load}::int
            WHERE ${assignment._tag === "WriteAssignment"}
          ) x
          WHERE EXISTS (SELECT 1 FROM snap) AND gateway_name IS DISTINCT FROM ${c.reserve?.gateway ?? null}::text
          GROUP BY gateway_name HAVING sum(d) <> 0),
        counters AS (
          INSERT INTO gateway_loads (gateway_name, load) SELECT gateway_name, d FROM deltas
          ON CONFLICT (gateway_name) DO UPDATE SET load = gateway_loads.load + EXCLUDED.load)`

    // One statement: the reservation (when placing), the snapshot (written
    // only if the reservation held and the version is the one the step
    // started from), the history, the assignment and the load counters. A
    // placement runs in a transaction of its own: a stale version rolls its
    // reservation back.
    const write = (roomId: number, c: Commit): Effect.Effect<number, DatabaseUnavailable | StaleRoom | GatewayFull> =>
      c.reserve === undefined ? statement(roomId, c) : sql.withTransaction(statement(roomId, c)).pipe(unavailableIn("RoomStore.commit"))

    const statement = (roomId: number, c: Commit) => {
      const history = c.effects.flatMap((e) => (e._tag === "Persist" && e.history !== undefined ? [e.history] : []))
      const assignment = netAssignment(c.effects)
      const loadChanges = assignment !== undefined && assignment._tag !== "TouchAssignment"
      const parts = [
        ...(c.reserve !== undefined
          ? [sql`reserve AS (
              INSERT INTO gateway_loads (gateway_name, load)
              SELECT ${c.reserve.gateway}, ${c.load}::int WHERE ${c.load}::int <= ${c.reserve.capacity}
              ON CONFLICT (gateway_name) DO UPDATE SET load = gateway_loads.load + EXCLUDED.load
              WHERE gateway_loads.load + EXCLUDED.load <= ${c.reserve.capacity}
              RETURNING gateway_name)`]
          : []),
        sql`snap AS (${snapshotWrite(roomId, c)})`,
        ...(history.length > 0 ? [sql`history AS (${historyWrite(roomId, history)})`] : []),
        ...(loadChanges ? [countersWrite(roomId, assignment, c)] : []),
        ...(assignment !== undefined ? [sql`assignment AS (${assignmentWrite(roomId, assignment, c.load, c.reserved)})`] : [])
      ]
      return sql<{ version: string | number | null; reserved: number }>`
        WITH ${sql.join(", ", false)(parts)}
        SELECT (SELECT version FROM snap) AS version, ${c.reserve !== undefined ? sql`(SELECT count(*)::int FROM reserve)` : sql`1`} AS reserved`.pipe(
        unavailable("RoomStore.commit"),
        Effect.flatMap(([row]): Effect.Effect<number, GatewayFull | StaleRoom> => {
          if (row === undefined || row.reserved === 0) return Effect.fail(new GatewayFull({ gateway: c.reserve?.gateway ?? "" }))
          return row.version === null ? Effect.fail(new StaleRoom({ roomId, version: c.version })) : Effect.succeed(Number(row.version))
        })
      )
    }

    const transitions = (roomId: number) =>
      sql<TransitionRow>`
        SELECT seq, from_state AS "from", event, to_state AS "to", gateway_name AS gateway, sessions, at
        FROM room_transitions WHERE room_id = ${roomId} ORDER BY seq`.pipe(unavailable("RoomStore.transitions"))

    const dueRooms = (now: Date) =>
      sql<{ room: RoomId }>`
        SELECT r.room FROM room_snapshots s JOIN rooms r ON r.id = s.room_id
        WHERE s.deadline_at <= ${now} ORDER BY s.deadline_at LIMIT 1000`.pipe(
        Effect.map((rows) => rows.map((r) => r.room)),
        unavailable("RoomStore.dueRooms")
      )

    const miscounted = sql<{ room: RoomId }>`
      SELECT r.room FROM rooms r
      LEFT JOIN room_snapshots s ON s.room_id = r.id
      LEFT JOIN (SELECT room_id, count(*)::int AS n FROM sessions WHERE removed_at IS NULL GROUP BY room_id) l ON l.room_id = r.id
      WHERE r.removed_at IS NULL AND COALESCE(s.sessions, 0) <> COALESCE(l.n, 0)
      LIMIT 1000`.pipe(
      Effect.map((rows) => rows.map((r) => r.room)),
      unavailable("RoomStore.miscounted")
    )

    return { loadRoom, historyLength, loadAssignment, liveSessions, assignments, write, transitions, dueRooms, miscounted }
  }))
}

type AssignmentEffect = Extract<RoomEffect, { _tag: "WriteAssignment" | "TouchAssignment" | "ReleaseAssignment" }>

/** What a step's assignment effects come to: the last write or release wins; a touch only counts alone. */
export const netAssignment = (effects: ReadonlyArray<RoomEffect>): AssignmentEffect | undefined => {
  let net: AssignmentEffect | undefined
  for (const e of effects) {
    if (e._tag === "WriteAssignment" || e._tag === "ReleaseAssignment") net = e
    else if (e._tag === "TouchAssignment" && net === undefined) net = e
  }
  return net
}
