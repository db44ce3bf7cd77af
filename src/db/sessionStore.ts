// Sessions: who is in which room through which gateway.
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

export interface LiveSessionRow {
  readonly room: number
  readonly name: string
  readonly defaultGateway: string | null
  readonly assignedGateway: string | null
  readonly sessionId: number
  readonly userId: string
  readonly display: string | null
  readonly email: string | null
  readonly gateway: string | null
  readonly camera: boolean
  readonly mic: boolean
  readonly screen: boolean
  readonly question: boolean
  readonly selfTest: boolean
  readonly soundTest: boolean
  readonly country: string | null
  readonly joinedAt: Date
  readonly keepaliveAt: Date
}

export class SessionStore extends Context.Service<SessionStore, {
  /** Live sessions with their room, ordered by room name then join time; one room or all. */
  readonly live: (room?: number) => Effect.Effect<ReadonlyArray<LiveSessionRow>>
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

    return { live }
  }))
}
