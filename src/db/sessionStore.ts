// Sessions: who is in which room through which gateway.
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

/** What a session shows of its user's media and state. */
export interface SessionFlags {
  readonly camera: boolean
  readonly mic: boolean
  readonly screen: boolean
  readonly question: boolean
  readonly selfTest: boolean
  readonly soundTest: boolean
}

export interface LiveSessionRow extends SessionFlags {
  readonly room: number
  readonly name: string
  readonly defaultGateway: string | null
  readonly assignedGateway: string | null
  readonly sessionId: number
  readonly userId: string
  readonly display: string | null
  readonly email: string | null
  readonly gateway: string | null
  readonly country: string | null
  readonly joinedAt: Date
  readonly keepaliveAt: Date
}

/** A keepalive as clients send it (PUT /users/:id, MQTT gxydb/users/…). */
export interface SessionInput extends SessionFlags {
  readonly userId: string
  readonly room: number
  readonly gateway: string
  readonly gatewaySession: number
  readonly gatewayHandle: number | null
  readonly gatewayFeed: number | null
  readonly gatewayTextroomHandle: number | null
  readonly display: string | null
  readonly email: string | null
  readonly username: string | null
  readonly country: string | null
  readonly userAgent: string | null
  readonly ip: string | null
  readonly extra: unknown
}

/** Where a session is: its id, room number and gateway name. */
export interface SessionPlace {
  readonly session: number
  readonly room: number
  readonly gateway: string
}

export type UpsertOutcome =
  | { readonly _tag: "Joined"; readonly place: SessionPlace; readonly left: SessionPlace | undefined }
  | { readonly _tag: "Updated"; readonly place: SessionPlace }
  | { readonly _tag: "UnknownRoom" }
  | { readonly _tag: "UnknownGateway" }

// An arbitrary constant shared by every process of this service.
const cleanerLock = 7_413_020_119

export class SessionStore extends Context.Service<SessionStore, {
  /** Live sessions with their room, ordered by room name then join time; one room or all. */
  readonly live: (room?: number) => Effect.Effect<ReadonlyArray<LiveSessionRow>>
  /**
   * Creates the user if new and upserts the live session keyed by (user,
   * gateway, gateway session), refreshing its keepalive. A session that
   * changed rooms is reported as left there and joined here.
   */
  readonly upsert: (input: SessionInput) => Effect.Effect<UpsertOutcome>
  /** Closes the live session with this feed id (rfid), on `gateway` when given. */
  readonly closeByFeed: (feed: number, gateway: string | undefined) => Effect.Effect<ReadonlyArray<SessionPlace>>
  /**
   * Closes every live session without a keepalive since `before`, in one
   * conditional update: a keepalive landing meanwhile keeps its session.
   * Answers undefined when another process is sweeping.
   */
  readonly closeDead: (before: Date) => Effect.Effect<ReadonlyArray<SessionPlace> | undefined>
}>()("room-orchestrator/SessionStore") {
  static readonly layer = Layer.effect(SessionStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const live = (room?: number) =>
      sql<LiveSessionRow>`
        SELECT r.room::int AS room, r.name, dg.name AS "defaultGateway", a.gateway_name AS "assignedGateway",
               s.id::int AS "sessionId", u.account_id AS "userId", s.display, u.email, g.name AS gateway,
               s.camera, s.mic, s.screen, s.question, s.self_test AS "selfTest", s.sound_test AS "soundTest",
               s.country, s.created_at AS "joinedAt", s.updated_at AS "keepaliveAt"
        FROM sessions s
        JOIN rooms r ON r.id = s.room_id
        JOIN users u ON u.id = s.user_id
        LEFT JOIN gateways g ON g.id = s.gateway_id
        LEFT JOIN gateways dg ON dg.id = r.default_gateway_id
        LEFT JOIN room_server_assignments a ON a.room_id = r.id
        WHERE s.removed_at IS NULL AND r.removed_at IS NULL ${room === undefined ? sql`` : sql`AND r.room = ${room}`}
        ORDER BY r.name, r.room, s.created_at, s.id`.pipe(Effect.orDie)

    const upsert = (i: SessionInput) =>
      sql.withTransaction(Effect.gen(function*() {
        const [room] = yield* sql<{ id: number }>`SELECT id::int AS id FROM rooms WHERE room = ${i.room} AND removed_at IS NULL`
        if (room === undefined) return { _tag: "UnknownRoom" } as const
        const [gateway] = yield* sql<{ id: number }>`SELECT id::int AS id FROM gateways WHERE name = ${i.gateway}`
        if (gateway === undefined) return { _tag: "UnknownGateway" } as const
        const [user] = yield* sql<{ id: number }>`
          INSERT INTO users (account_id, email, username) VALUES (${i.userId}, ${i.email}, ${i.username})
          ON CONFLICT (account_id) DO UPDATE SET
            email = COALESCE(EXCLUDED.email, users.email),
            username = COALESCE(EXCLUDED.username, users.username),
            updated_at = now()
          RETURNING id::int AS id`
        const [before] = yield* sql<{ session: number; room: number }>`
          SELECT s.id::int AS session, r.room::int AS room FROM sessions s JOIN rooms r ON r.id = s.room_id
          WHERE s.user_id = ${user!.id} AND s.gateway_id = ${gateway.id} AND s.gateway_session = ${i.gatewaySession}
            AND s.removed_at IS NULL
          FOR UPDATE OF s`
        const extra = i.extra === undefined || i.extra === null ? null : JSON.stringify(i.extra)
        const [row] = yield* sql<{ session: number; inserted: boolean }>`
          INSERT INTO sessions (user_id, room_id, gateway_id, gateway_session, gateway_handle, gateway_feed,
            gateway_handle_textroom, display, camera, mic, screen, question, self_test, sound_test, country,
            user_agent, ip_address, extra)
          VALUES (${user!.id}, ${room.id}, ${gateway.id}, ${i.gatewaySession}, ${i.gatewayHandle}, ${i.gatewayFeed},
            ${i.gatewayTextroomHandle}, ${i.display}, ${i.camera}, ${i.mic}, ${i.screen}, ${i.question}, ${i.selfTest},
            ${i.soundTest}, ${i.country}, ${i.userAgent}, ${i.ip}, ${extra}::jsonb)
          ON CONFLICT (user_id, gateway_id, gateway_session) WHERE removed_at IS NULL DO UPDATE SET
            room_id = EXCLUDED.room_id,
            gateway_handle = COALESCE(EXCLUDED.gateway_handle, sessions.gateway_handle),
            gateway_feed = COALESCE(EXCLUDED.gateway_feed, sessions.gateway_feed),
            gateway_handle_textroom = COALESCE(EXCLUDED.gateway_handle_textroom, sessions.gateway_handle_textroom),
            display = COALESCE(EXCLUDED.display, sessions.display),
            camera = EXCLUDED.camera, mic = EXCLUDED.mic, screen = EXCLUDED.screen, question = EXCLUDED.question,
            self_test = EXCLUDED.self_test, sound_test = EXCLUDED.sound_test,
            country = COALESCE(EXCLUDED.country, sessions.country),
            user_agent = COALESCE(EXCLUDED.user_agent, sessions.user_agent),
            ip_address = COALESCE(EXCLUDED.ip_address, sessions.ip_address),
            extra = COALESCE(EXCLUDED.extra, sessions.extra),
            updated_at = now()
          RETURNING id::int AS session, (xmax = 0) AS inserted`
        const place = { session: row!.session, room: i.room, gateway: i.gateway }
        if (before !== undefined && before.room === i.room) return { _tag: "Updated", place } as const
        const left = before === undefined ? undefined : { session: before.session, room: before.room, gateway: i.gateway }
        return { _tag: "Joined", place, left } as const
      })).pipe(Effect.orDie)

    const closed = sql`RETURNING id::int AS session,
      (SELECT room::int FROM rooms WHERE id = sessions.room_id) AS room,
      (SELECT name FROM gateways WHERE id = sessions.gateway_id) AS gateway`

    const closeByFeed = (feed: number, gateway: string | undefined) =>
      sql<SessionPlace>`
        UPDATE sessions SET removed_at = now()
        WHERE removed_at IS NULL AND gateway_feed = ${feed}
          ${gateway === undefined ? sql`` : sql`AND gateway_id = (SELECT id FROM gateways WHERE name = ${gateway})`}
        ${closed}`.pipe(Effect.orDie)

    const closeDead = (before: Date) =>
      sql.withTransaction(Effect.gen(function*() {
        const [lock] = yield* sql<{ taken: boolean }>`SELECT pg_try_advisory_xact_lock(${cleanerLock}) AS taken`
        if (!lock?.taken) return undefined
        return yield* sql<SessionPlace>`
          UPDATE sessions SET removed_at = now()
          WHERE removed_at IS NULL AND updated_at < ${before}
          ${closed}`
      })).pipe(Effect.orDie)

    return { live, upsert, closeByFeed, closeDead }
  }))
}
