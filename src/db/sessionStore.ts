// Sessions: who is in which room through which gateway.
import { Context, Effect, Layer } from "effect"
import { SqlClient, type Statement } from "effect/sql"
import type { RoomId } from "../domain/room.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import { jsonOrNull } from "./catalogStore.ts"
import { unavailable, unavailableIn } from "./queryFailures.ts"

/** What a session shows of its user's media and state. */
export interface SessionFlags {
  readonly camera: boolean
  readonly mic: boolean
  readonly screen: boolean
  readonly question: boolean
  readonly selfTest: boolean
  readonly soundTest: boolean
}

/** What a client last sent about itself, kept for the listings (gxydb-api's user fields). */
export interface SessionDetails extends SessionFlags {
  readonly display: string | null
  readonly email: string | null
  readonly username: string | null
  readonly groupName: string | null
  readonly role: string | null
  readonly clientName: string | null
  readonly country: string | null
  readonly userAgent: string | null
  readonly ip: string | null
  readonly extra: unknown
  readonly gatewaySession: number
  readonly gatewayHandle: number | null
  readonly gatewayFeed: string | null
  readonly gatewayTextroomHandle: number | null
  /** `timestamp` as the client sent it. */
  readonly clientTimestamp: number | null
}

export interface LiveSessionRow extends SessionDetails {
  readonly room: RoomId
  readonly sessionId: number
  readonly userId: string
  readonly gateway: string | null
  readonly joinedAt: Date
  readonly keepaliveAt: Date
}

/** A keepalive as clients send it (PUT /users/:id, MQTT gxydb/users/…). */
export interface SessionInput extends SessionDetails {
  readonly userId: string
  readonly room: RoomId
  readonly gateway: string
}

/** Where a session is: its id, room id and gateway name. */
export interface SessionPlace {
  readonly session: number
  readonly room: RoomId
  readonly gateway: string
}

/** A session held by a real-time connection (seed 003): who, where, and what it shows. */
export interface SocketSessionInput {
  readonly userId: string
  readonly room: RoomId
  readonly gateway: string
  readonly display: string | null
  readonly country: string | null
}

/** Media flags a real-time client changes (unset: unchanged). */
export interface MediaPatch {
  readonly mic?: boolean | undefined
  readonly camera?: boolean | undefined
  readonly screen?: boolean | undefined
}

/** A session that names a room or a gateway not in the database: nothing is written. */
export type UnknownPlace = { readonly _tag: "UnknownRoom" } | { readonly _tag: "UnknownGateway" }

export type OpenOutcome = { readonly _tag: "Opened"; readonly place: SessionPlace } | UnknownPlace

export type UpsertOutcome =
  | {
    readonly _tag: "Joined"
    readonly place: SessionPlace
    readonly left: SessionPlace | undefined
    /** The user's live sessions now, this one included. */
    readonly userSessions: number
  }
  | { readonly _tag: "Updated"; readonly place: SessionPlace }
  | UnknownPlace

const touchSlice = 10_000

// Fields a client may leave out, kept when it does; flags, written as sent.
const keptWhenAbsent = [
  "gateway_handle", "gateway_feed", "gateway_handle_textroom", "display", "country", "user_agent", "ip_address", "extra",
  "group_name", "role", "client_name", "client_timestamp"
] as const
const flags = ["camera", "mic", "screen", "question", "self_test", "sound_test"] as const

/** What a keepalive writes over a live session, read from `source`: the upsert's EXCLUDED row or a batch's row `v`. */
const keptFieldsText = (source: "EXCLUDED" | "v") =>
  [
    ...keptWhenAbsent.map((c) => `${c} = COALESCE(${source}.${c}, sessions.${c})`),
    ...flags.map((c) => `${c} = ${source}.${c}`),
    "updated_at = now()"
  ].join(", ")

// An arbitrary constant shared by every process of this service.
const cleanerLock = 7_413_020_119

export class SessionStore extends Context.Service<SessionStore, {
  /** Live sessions, ordered by room then join time; one room or all. */
  readonly live: (room?: RoomId) => Effect.Effect<ReadonlyArray<LiveSessionRow>, DatabaseUnavailable>
  /**
   * Creates the user if new and upserts the live session keyed by (user,
   * gateway, gateway session), refreshing its keepalive. A session that
   * changed rooms is reported as left there and joined here.
   */
  readonly upsert: (input: SessionInput) => Effect.Effect<UpsertOutcome, DatabaseUnavailable>
  /**
   * Closes the live sessions with this feed id (rfid). `emitter` narrows the
   * close to that gateway only when it names a registered gateway (Janus may
   * name itself by its server name instead).
   */
  readonly closeByFeed: (feed: string, emitter: string | undefined) => Effect.Effect<ReadonlyArray<SessionPlace>, DatabaseUnavailable>
  /**
   * Closes every live session without a keepalive since `before`, in one
   * conditional update: a keepalive landing meanwhile keeps its session.
   * Answers undefined when another process is sweeping.
   */
  readonly closeDead: (before: Date) => Effect.Effect<ReadonlyArray<SessionPlace> | undefined, DatabaseUnavailable>
  /**
   * Opens a session for a real-time connection. Its gateway session number
   * is its own row id, so two connections of one user never share a key.
   */
  readonly openSocket: (input: SocketSessionInput) => Effect.Effect<OpenOutcome, DatabaseUnavailable>
  /** One live session with everything a listing shows; undefined once closed. */
  readonly liveSession: (session: number) => Effect.Effect<LiveSessionRow | undefined, DatabaseUnavailable>
  /** Changes a live session's media flags; false when it is closed. */
  readonly setMedia: (session: number, media: MediaPatch) => Effect.Effect<boolean, DatabaseUnavailable>
  /** Closes one live session; undefined when it was already closed. */
  readonly close: (session: number) => Effect.Effect<SessionPlace | undefined, DatabaseUnavailable>
  /**
   * Keepalives of sessions already live, in one statement: each session's
   * fields and keepalive time written as `upsert` would (its user's email and
   * username too). Answers the sessions still live; a session closed
   * meanwhile is not written and goes through `upsert` again.
   */
  readonly refresh: (keepalives: ReadonlyArray<{ readonly session: number; readonly input: SessionInput }>) => Effect.Effect<ReadonlySet<number>, DatabaseUnavailable>
  /** Closes the user's live sessions beyond the newest `keep`; answers where they were. */
  readonly closeBeyond: (userId: string, keep: number) => Effect.Effect<ReadonlyArray<SessionPlace>, DatabaseUnavailable>
  /** Refreshes the keepalive of these sessions; answers those still live. */
  readonly touch: (sessions: ReadonlyArray<number>) => Effect.Effect<ReadonlySet<number>, DatabaseUnavailable>
}>()("room-orchestrator/SessionStore") {
  static readonly layer = Layer.effect(SessionStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // constant text (column names only), so it may be inserted as it is
    const keptFields = (source: "EXCLUDED" | "v") => sql.literal(keptFieldsText(source))

    const select = (where: Statement.Fragment) =>
      sql<LiveSessionRow>`
        SELECT r.room, s.id::int AS "sessionId", u.account_id AS "userId", g.name AS gateway,
               s.display, u.email, u.username, s.group_name AS "groupName", s.role, s.client_name AS "clientName",
               s.camera, s.mic, s.screen, s.question, s.self_test AS "selfTest", s.sound_test AS "soundTest",
               s.country, s.user_agent AS "userAgent", s.ip_address AS ip, s.extra,
               COALESCE(s.gateway_session, 0)::float8 AS "gatewaySession", s.gateway_handle::float8 AS "gatewayHandle",
               s.gateway_feed AS "gatewayFeed", s.gateway_handle_textroom::float8 AS "gatewayTextroomHandle",
               s.client_timestamp::float8 AS "clientTimestamp",
               s.created_at AS "joinedAt", s.updated_at AS "keepaliveAt"
        FROM sessions s
        JOIN rooms r ON r.id = s.room_id
        JOIN users u ON u.id = s.user_id
        LEFT JOIN gateways g ON g.id = s.gateway_id
        WHERE s.removed_at IS NULL AND r.removed_at IS NULL ${where}
        ORDER BY r.room, s.created_at, s.id`.pipe(unavailable("SessionStore.live"))

    const live = (room?: RoomId) => select(room === undefined ? sql`` : sql`AND r.room = ${room}`)

    // One statement (one round trip, no explicit transaction): the room and
    // gateway looked up, the user and the session upserted, and where the
    // session was before, all under the statement's snapshot. The session
    // row's lock (ON CONFLICT) serializes two keepalives of one session.
    const upsert = (i: SessionInput) =>
      sql<{ room: number | null; gateway: number | null; session: number | null; beforeSession: number | null; beforeRoom: RoomId | null; others: number }>`
        WITH r AS (SELECT id FROM rooms WHERE room = ${i.room} AND removed_at IS NULL),
        g AS (SELECT id FROM gateways WHERE name = ${i.gateway}),
        u AS (
          INSERT INTO users (account_id, email, username)
          SELECT ${i.userId}, ${i.email}, ${i.username} WHERE EXISTS (SELECT 1 FROM r) AND EXISTS (SELECT 1 FROM g)
          ON CONFLICT (account_id) DO UPDATE SET
            email = COALESCE(EXCLUDED.email, users.email),
            username = COALESCE(EXCLUDED.username, users.username),
            updated_at = now()
          RETURNING id),
        before AS (
          SELECT s.id, br.room FROM sessions s JOIN rooms br ON br.id = s.room_id, u, g
          WHERE s.user_id = u.id AND s.gateway_id = g.id AND s.gateway_session = ${i.gatewaySession} AND s.removed_at IS NULL),
        up AS (
          INSERT INTO sessions (user_id, room_id, gateway_id, gateway_session, gateway_handle, gateway_feed,
            gateway_handle_textroom, display, camera, mic, screen, question, self_test, sound_test, country,
            user_agent, ip_address, extra, group_name, role, client_name, client_timestamp)
          SELECT u.id, r.id, g.id, ${i.gatewaySession}, ${i.gatewayHandle}, ${i.gatewayFeed},
            ${i.gatewayTextroomHandle}, ${i.display}, ${i.camera}, ${i.mic}, ${i.screen}, ${i.question}, ${i.selfTest},
            ${i.soundTest}, ${i.country}, ${i.userAgent}, ${i.ip}, ${jsonOrNull(i.extra)}::jsonb, ${i.groupName}, ${i.role},
            ${i.clientName}, ${i.clientTimestamp}
          FROM u, r, g
          ON CONFLICT (user_id, gateway_id, gateway_session) WHERE removed_at IS NULL DO UPDATE SET
            room_id = EXCLUDED.room_id,
            ${keptFields("EXCLUDED")}
          RETURNING id)
        SELECT (SELECT id::int FROM r) AS room, (SELECT id::int FROM g) AS gateway, (SELECT id::int FROM up) AS session,
               (SELECT id::int FROM before) AS "beforeSession", (SELECT room FROM before) AS "beforeRoom",
               -- the user's other live sessions (as the statement found them)
               (SELECT count(*)::int FROM sessions s, u WHERE s.user_id = u.id AND s.removed_at IS NULL) AS others`.pipe(
        Effect.map(([row]): UpsertOutcome => {
          if (row?.room == null) return { _tag: "UnknownRoom" }
          if (row.gateway == null) return { _tag: "UnknownGateway" }
          const place = { session: row.session!, room: i.room, gateway: i.gateway }
          if (row.beforeSession !== null && row.beforeRoom === i.room) return { _tag: "Updated", place }
          const left = row.beforeSession === null ? undefined : { session: row.beforeSession, room: row.beforeRoom!, gateway: i.gateway }
          return { _tag: "Joined", place, left, userSessions: row.others + 1 - (left === undefined ? 0 : 1) }
        }),
        unavailable("SessionStore.upsert")
      )

    const refresh = (keepalives: ReadonlyArray<{ readonly session: number; readonly input: SessionInput }>) => {
      const rows = keepalives.map(({ session, input: i }) => ({
        session,
        email: i.email,
        username: i.username,
        gateway_handle: i.gatewayHandle,
        gateway_feed: i.gatewayFeed,
        gateway_handle_textroom: i.gatewayTextroomHandle,
        display: i.display,
        camera: i.camera,
        mic: i.mic,
        screen: i.screen,
        question: i.question,
        self_test: i.selfTest,
        sound_test: i.soundTest,
        country: i.country,
        user_agent: i.userAgent,
        ip_address: i.ip,
        extra: i.extra ?? null,
        group_name: i.groupName,
        role: i.role,
        client_name: i.clientName,
        client_timestamp: i.clientTimestamp
      }))
      return sql<{ id: number }>`
        WITH v AS (
          SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(
            session bigint, email text, username text, gateway_handle bigint, gateway_feed text,
            gateway_handle_textroom bigint, display text, camera boolean, mic boolean, screen boolean, question boolean,
            self_test boolean, sound_test boolean, country text, user_agent text, ip_address text, extra jsonb,
            group_name text, role text, client_name text, client_timestamp bigint)),
        -- rows locked in id order: two batches (of this process or another) never deadlock
        locked AS (
          SELECT id FROM sessions
          WHERE id = ANY((SELECT array_agg(session) FROM v)::bigint[]) AND removed_at IS NULL
          ORDER BY id FOR UPDATE),
        s AS (
          UPDATE sessions SET ${keptFields("v")}
          FROM v JOIN locked ON locked.id = v.session WHERE sessions.id = locked.id
          RETURNING sessions.id, sessions.user_id),
        u AS (
          UPDATE users u SET email = COALESCE(v.email, u.email), username = COALESCE(v.username, u.username), updated_at = now()
          FROM v JOIN s ON s.id = v.session
          -- the id list lets the planner use the primary key (it guesses 100 rows for the function)
          WHERE u.id = s.user_id AND u.id = ANY((SELECT array_agg(user_id) FROM s)::bigint[])
            AND (COALESCE(v.email, u.email) IS DISTINCT FROM u.email OR COALESCE(v.username, u.username) IS DISTINCT FROM u.username)
          RETURNING u.id)
        SELECT id::int AS id FROM s`.pipe(
        Effect.map((live) => new Set(live.map((r) => r.id))),
        unavailable("SessionStore.refresh")
      )
    }

    const closed = sql`RETURNING id::int AS session,
      (SELECT room FROM rooms WHERE id = sessions.room_id) AS room,
      (SELECT name FROM gateways WHERE id = sessions.gateway_id) AS gateway`

    const closeByFeed = (feed: string, emitter: string | undefined) =>
      sql<SessionPlace>`
        UPDATE sessions SET removed_at = now()
        WHERE removed_at IS NULL AND gateway_feed = ${feed}
          ${emitter === undefined ? sql`` : sql`AND gateway_id = COALESCE((SELECT id FROM gateways WHERE name = ${emitter}), gateway_id)`}
        ${closed}`.pipe(unavailable("SessionStore.closeByFeed"))

    const closeDead = (before: Date) =>
      sql.withTransaction(Effect.gen(function*() {
        const [lock] = yield* sql<{ taken: boolean }>`SELECT pg_try_advisory_xact_lock(${cleanerLock}) AS taken`
        if (!lock?.taken) return undefined
        return yield* sql<SessionPlace>`
          UPDATE sessions SET removed_at = now()
          WHERE removed_at IS NULL AND updated_at < ${before}
          ${closed}`
      })).pipe(unavailableIn("SessionStore.closeDead"))

    const openSocket = (i: SocketSessionInput) =>
      sql.withTransaction(Effect.gen(function*() {
        const [room] = yield* sql<{ id: number }>`SELECT id::int AS id FROM rooms WHERE room = ${i.room} AND removed_at IS NULL`
        if (room === undefined) return { _tag: "UnknownRoom" } as const
        const [gateway] = yield* sql<{ id: number }>`SELECT id::int AS id FROM gateways WHERE name = ${i.gateway}`
        if (gateway === undefined) return { _tag: "UnknownGateway" } as const
        const [user] = yield* sql<{ id: number }>`
          INSERT INTO users (account_id) VALUES (${i.userId})
          ON CONFLICT (account_id) DO UPDATE SET updated_at = now()
          RETURNING id::int AS id`
        const [row] = yield* sql<{ session: number }>`
          WITH next AS (SELECT nextval(pg_get_serial_sequence('sessions', 'id')) AS id)
          INSERT INTO sessions (id, user_id, room_id, gateway_id, gateway_session, display, country)
          SELECT next.id, ${user!.id}, ${room.id}, ${gateway.id}, next.id, ${i.display}, ${i.country} FROM next
          RETURNING id::int AS session`
        return { _tag: "Opened", place: { session: row!.session, room: i.room, gateway: i.gateway } } as const
      })).pipe(unavailableIn("SessionStore.openSocket"))

    const liveSession = (session: number) =>
      Effect.map(select(sql`AND s.id = ${session}`), (rows) => rows[0])

    const setMedia = (session: number, m: MediaPatch) =>
      sql`
        UPDATE sessions SET
          mic = COALESCE(${m.mic ?? null}::boolean, mic),
          camera = COALESCE(${m.camera ?? null}::boolean, camera),
          screen = COALESCE(${m.screen ?? null}::boolean, screen),
          updated_at = now()
        WHERE id = ${session} AND removed_at IS NULL
        RETURNING id`.pipe(
        Effect.map((rows) => rows.length > 0),
        unavailable("SessionStore.setMedia")
      )

    const close = (session: number) =>
      sql<SessionPlace>`UPDATE sessions SET removed_at = now() WHERE id = ${session} AND removed_at IS NULL ${closed}`.pipe(
        Effect.map((rows) => rows[0]),
        unavailable("SessionStore.close")
      )

    // In slices: a statement takes at most 65,535 parameters.
    const touch = (sessions: ReadonlyArray<number>) =>
      Effect.forEach(
        Array.from({ length: Math.ceil(sessions.length / touchSlice) }, (_, i) => sessions.slice(i * touchSlice, (i + 1) * touchSlice)),
        (slice) =>
          sql<{ id: number }>`
            UPDATE sessions SET updated_at = now() WHERE removed_at IS NULL AND ${sql.in("id", slice)}
            RETURNING id::int AS id`
      ).pipe(
        Effect.map((slices) => new Set(slices.flat().map((r) => r.id))),
        unavailable("SessionStore.touch")
      )

    const closeBeyond = (userId: string, keep: number) =>
      sql<SessionPlace>`
        WITH beyond AS (
          SELECT s.id FROM sessions s
          WHERE s.user_id = (SELECT id FROM users WHERE account_id = ${userId}) AND s.removed_at IS NULL
          ORDER BY s.created_at DESC, s.id DESC OFFSET ${keep})
        UPDATE sessions SET removed_at = now()
        WHERE id IN (SELECT id FROM beyond) AND removed_at IS NULL
        ${closed}`.pipe(unavailable("SessionStore.closeBeyond"))

    return { live, upsert, refresh, closeByFeed, closeDead, openSocket, liveSession, setMedia, close, closeBeyond, touch }
  }))
}
