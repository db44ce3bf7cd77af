// What the checker reads: every call the load generator made, as it saw it
// (times on this machine's wall clock, the same clock Postgres stamps its
// commits with), and what the database holds after the run.

export type Operation = "room_server" | "join" | "keepalive" | "leave" | "drain" | "reassign"

export interface Call {
  readonly id: number
  readonly op: Operation
  /** The runner the call went through. */
  readonly runner: number
  readonly room: string
  /** For joins, keepalives and leaves: the user, the gateway it named, its gateway session and keepalive number; for drains, the gateway. */
  readonly user?: string | undefined
  readonly gateway?: string | undefined
  readonly session?: number | undefined
  readonly keepalive?: number | undefined
  /** For drains: whether the gateway was set draining (true) or serving again (false). */
  readonly draining?: boolean | undefined
  /** Epoch ms, just before the request was sent and just after its answer was read. */
  readonly sent: number
  readonly received: number
  /** The HTTP status, or why there was none. */
  readonly status: number | "timeout" | "connection"
  readonly contentType?: string | undefined
  readonly retryAfter?: string | undefined
  /** The answer's body (cut at 300 characters). */
  readonly body: string
}

/** One row of a room's transition history, with when it committed. */
export interface Transition {
  readonly room: string
  readonly seq: number
  readonly from: string
  readonly event: string
  readonly to: string
  readonly gateway: string | null
  readonly sessions: number | null
  /** Epoch ms of the commit (track_commit_timestamp), or of the step's start when unknown. */
  readonly committed: number
}

export interface StoredSession {
  readonly user: string
  readonly gateway: string
  readonly session: number
  /** The `extra.ka` of its last keepalive. */
  readonly keepalive: number | null
  readonly created: number
  readonly removed: number | null
}

export interface StoredRoom {
  readonly room: string
  readonly seq: number | null
  readonly state: string | null
  readonly gateway: string | null
  readonly assignment: string | null
  readonly assignmentLoad: number | null
}

/** What the database holds after the run. */
export interface Facts {
  readonly transitions: ReadonlyArray<Transition>
  readonly sessions: ReadonlyArray<StoredSession>
  readonly rooms: ReadonlyArray<StoredRoom>
  /** gateway → its load counter */
  readonly counters: Readonly<Record<string, number>>
  /** gateway → the loads its assignment rows add up to (every room, not only the lab's) */
  readonly assignedLoads: Readonly<Record<string, number>>
}

/** The deployment's settings the checker needs. */
export interface Rules {
  readonly gateways: ReadonlyArray<string>
  readonly capacity: number
  readonly averageOccupancy: number
  /**
   * How long after a room was moved (an operator's reassign, a failover)
   * an answer may still name its previous gateway: the read view's lease,
   * as the README documents (min(5 s, DRAIN_GRACE / 4)).
   */
  readonly moveLease: number
}

/** A time window of the run: a fault and the recovery after it. */
export interface Phase {
  readonly name: string
  readonly start: number
  readonly end: number
  /** For a fault: the runner it struck and when it was healed. */
  readonly runner?: number | undefined
  readonly healed?: number | undefined
  /** What was done, for the report. */
  readonly detail: string
}

type Query = <A>(text: string, params?: ReadonlyArray<unknown>) => Promise<ReadonlyArray<A>>

const ms = (t: Date | string | null) => (t === null ? null : new Date(t).getTime())

/** Reads the facts of the lab's rooms (room ids above 5000) from the database; run it in one repeatable-read transaction. */
export const readFacts = async (query: Query): Promise<Facts> => {
  const transitions = await query<{
    room: string
    seq: number
    from_state: string
    event: string
    to_state: string
    gateway_name: string | null
    sessions: number | null
    committed: Date | null
    at: Date
  }>(`
    SELECT r.room, t.seq, t.from_state, t.event, t.to_state, t.gateway_name, t.sessions, t.at,
           pg_xact_commit_timestamp(t.xmin) AS committed
    FROM room_transitions t JOIN rooms r ON r.id = t.room_id
    WHERE r.room ~ '^5[0-9]{3}$'
    ORDER BY r.room, t.seq`)
  const sessions = await query<{ user: string; gateway: string; session: string; ka: string | null; created_at: Date; removed_at: Date | null }>(`
    SELECT u.account_id AS user, g.name AS gateway, s.gateway_session::text AS session, s.extra->>'ka' AS ka,
           s.created_at, s.removed_at
    FROM sessions s JOIN users u ON u.id = s.user_id JOIN gateways g ON g.id = s.gateway_id
    WHERE u.account_id LIKE 'pu%'`)
  const rooms = await query<{ room: string; seq: number | null; state: string | null; gateway: string | null; assignment: string | null; load: number | null }>(`
    SELECT r.room, m.seq, m.state, m.snapshot->'context'->>'gateway' AS gateway, a.gateway_name AS assignment, a.load
    FROM rooms r
    LEFT JOIN room_snapshots m ON m.room_id = r.id
    LEFT JOIN room_server_assignments a ON a.room_id = r.id
    WHERE r.room ~ '^5[0-9]{3}$'`)
  const counters = await query<{ gateway_name: string; load: number }>(`SELECT gateway_name, load FROM gateway_loads`)
  const assigned = await query<{ gateway_name: string; load: number }>(
    `SELECT gateway_name, sum(load)::int AS load FROM room_server_assignments GROUP BY gateway_name`
  )
  return {
    transitions: transitions.map((t) => ({
      room: t.room,
      seq: t.seq,
      from: t.from_state,
      event: t.event,
      to: t.to_state,
      gateway: t.gateway_name,
      sessions: t.sessions,
      committed: ms(t.committed ?? t.at)!
    })),
    sessions: sessions.map((s) => ({
      user: s.user,
      gateway: s.gateway,
      session: Number(s.session),
      keepalive: s.ka === null ? null : Number(s.ka),
      created: ms(s.created_at)!,
      removed: ms(s.removed_at)
    })),
    rooms: rooms.map((r) => ({ room: r.room, seq: r.seq, state: r.state, gateway: r.gateway, assignment: r.assignment, assignmentLoad: r.load })),
    counters: Object.fromEntries(counters.map((c) => [c.gateway_name, c.load])),
    assignedLoads: Object.fromEntries(assigned.map((c) => [c.gateway_name, c.load]))
  }
}
