// A room's stored lifecycle: its row, its machine snapshot, its transition
// log and its assignment. A transition and the assignment change it implies
// are written in one transaction.
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { upsertAssignment } from "./assignmentSql.ts"

export interface RoomRow {
  readonly id: number
  readonly room: number
  readonly name: string
  readonly region: string | null
  readonly disabled: boolean
}

export interface StoredMachine {
  readonly seq: number
  readonly state: string
  readonly snapshot: unknown
}

export interface StoredAssignment {
  readonly gateway: string
  readonly region: string | null
  readonly assignedAt: Date
  readonly lastUsedAt: Date
}

export interface TransitionRow {
  readonly seq: number
  readonly from: string
  readonly event: string
  readonly to: string
  readonly gateway: string | null
  readonly at: Date
}

export type AssignmentChange =
  | { readonly kind: "record"; readonly gateway: string; readonly region: string | null; readonly users: number }
  | { readonly kind: "touch" }
  | { readonly kind: "release" }
  | { readonly kind: "none" }

export interface Commit {
  /** The transition to append (only when the state or gateway changed). */
  readonly transition: Omit<TransitionRow, "at"> | undefined
  readonly seq: number
  readonly state: string
  readonly snapshot: unknown
  readonly deadlineAt: Date | null
  readonly assignment: AssignmentChange
  /** The room's session count, kept on its assignment (its share of the gateway's load). */
  readonly users: number
}

export class RoomStore extends Context.Service<RoomStore, {
  readonly findRoom: (room: number) => Effect.Effect<RoomRow | undefined>
  readonly loadMachine: (roomId: number) => Effect.Effect<StoredMachine | undefined>
  readonly loadAssignment: (roomId: number) => Effect.Effect<StoredAssignment | undefined>
  readonly commit: (roomId: number, commit: Commit) => Effect.Effect<void>
  readonly touch: (roomId: number) => Effect.Effect<void>
  readonly transitions: (roomId: number) => Effect.Effect<ReadonlyArray<TransitionRow>>
  /** The room's live sessions with the gateway each is on. */
  readonly liveSessions: (roomId: number) => Effect.Effect<ReadonlyArray<{ readonly session: string; readonly gateway: string }>>
  /** Room numbers whose machine has a timer due at `now`. */
  readonly dueRooms: (now: Date) => Effect.Effect<ReadonlyArray<number>>
}>()("room-orchestrator/RoomStore") {
  static readonly layer = Layer.effect(RoomStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const findRoom = (room: number) =>
      sql<RoomRow>`
        SELECT id::int AS id, room::int AS room, name, region, disabled
        FROM rooms WHERE room = ${room} AND removed_at IS NULL`.pipe(
        Effect.map((rows) => rows[0]),
        Effect.orDie
      )

    const loadMachine = (roomId: number) =>
      sql<StoredMachine>`SELECT seq, state, snapshot FROM room_snapshots WHERE room_id = ${roomId}`.pipe(
        Effect.map((rows) => rows[0]),
        Effect.orDie
      )

    const loadAssignment = (roomId: number) =>
      sql<StoredAssignment>`
        SELECT gateway_name AS gateway, region, assigned_at AS "assignedAt", last_used_at AS "lastUsedAt"
        FROM room_server_assignments WHERE room_id = ${roomId}`.pipe(
        Effect.map((rows) => rows[0]),
        Effect.orDie
      )

    const writeAssignment = (roomId: number, change: AssignmentChange) => {
      switch (change.kind) {
        case "record":
          return upsertAssignment(sql, roomId, change.gateway, change.region, change.users)
        case "touch":
          return sql`UPDATE room_server_assignments SET last_used_at = now() WHERE room_id = ${roomId}`
        case "release":
          return sql`DELETE FROM room_server_assignments WHERE room_id = ${roomId}`
        case "none":
          return Effect.succeed([])
      }
    }

    const commit = (roomId: number, c: Commit) =>
      sql.withTransaction(Effect.gen(function*() {
        if (c.transition !== undefined) {
          const t = c.transition
          yield* sql`
            INSERT INTO room_transitions (room_id, seq, from_state, event, to_state, gateway_name)
            VALUES (${roomId}, ${t.seq}, ${t.from}, ${t.event}, ${t.to}, ${t.gateway})`
        }
        const json = JSON.stringify(c.snapshot)
        yield* sql`
          INSERT INTO room_snapshots (room_id, seq, state, snapshot, deadline_at, updated_at)
          VALUES (${roomId}, ${c.seq}, ${c.state}, ${json}::jsonb, ${c.deadlineAt}, now())
          ON CONFLICT (room_id) DO UPDATE SET
            seq = EXCLUDED.seq, state = EXCLUDED.state, snapshot = EXCLUDED.snapshot,
            deadline_at = EXCLUDED.deadline_at, updated_at = now()`
        yield* writeAssignment(roomId, c.assignment)
        if (c.assignment.kind !== "release" && c.assignment.kind !== "record") {
          yield* sql`UPDATE room_server_assignments SET users = ${c.users} WHERE room_id = ${roomId} AND users <> ${c.users}`
        }
      })).pipe(Effect.orDie)

    const touch = (roomId: number) => Effect.orDie(writeAssignment(roomId, { kind: "touch" }))

    const transitions = (roomId: number) =>
      sql<TransitionRow>`
        SELECT seq, from_state AS "from", event, to_state AS "to", gateway_name AS gateway, at
        FROM room_transitions WHERE room_id = ${roomId} ORDER BY seq`.pipe(Effect.orDie)

    const dueRooms = (now: Date) =>
      sql<{ room: number }>`
        SELECT r.room::int AS room FROM room_snapshots s JOIN rooms r ON r.id = s.room_id
        WHERE s.deadline_at <= ${now} ORDER BY s.deadline_at LIMIT 1000`.pipe(
        Effect.map((rows) => rows.map((r) => r.room)),
        Effect.orDie
      )

    const liveSessions = (roomId: number) =>
      sql<{ session: string; gateway: string }>`
        SELECT s.id::text AS session, g.name AS gateway
        FROM sessions s JOIN gateways g ON g.id = s.gateway_id
        WHERE s.room_id = ${roomId} AND s.removed_at IS NULL ORDER BY s.id`.pipe(Effect.orDie)

    return { findRoom, loadMachine, loadAssignment, commit, touch, transitions, liveSessions, dueRooms }
  }))
}
