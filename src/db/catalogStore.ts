// Rooms as the catalog (the "factory settings"): number, name, default
// gateway, region, join code, flags. Read whole into memory by RoomCatalog.
import { Context, Effect, Layer } from "effect"
import { SqlClient, type Statement } from "effect/sql"

export interface CatalogRow {
  readonly id: number
  readonly room: number
  readonly name: string
  readonly region: string | null
  readonly joinCode: string
  readonly disabled: boolean
  readonly defaultGatewayId: number | null
  /** NULL when the default gateway is unset or does not exist. */
  readonly defaultGateway: string | null
  readonly defaultGatewayEnabled: boolean | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

export interface RoomInput {
  readonly room: number
  readonly name: string
  readonly defaultGateway: string | null
  readonly region: string | null
  readonly disabled: boolean
  readonly joinCode: string
}

export type RoomPatch = Partial<Omit<RoomInput, "room" | "joinCode">>

/** Why a write was refused. */
export type RoomWriteProblem = "exists" | "unknown gateway" | "join code taken" | "not found"

export class CatalogStore extends Context.Service<CatalogStore, {
  readonly rooms: Effect.Effect<ReadonlyArray<CatalogRow>>
  /** Live users per room id (distinct users with a live session). */
  readonly userCounts: Effect.Effect<ReadonlyMap<number, number>>
  readonly create: (input: RoomInput) => Effect.Effect<CatalogRow | RoomWriteProblem>
  readonly update: (room: number, patch: RoomPatch) => Effect.Effect<CatalogRow | RoomWriteProblem>
  /** Marks the room removed (its history stays). */
  readonly remove: (room: number) => Effect.Effect<boolean>
}>()("room-orchestrator/CatalogStore") {
  static readonly layer = Layer.effect(CatalogStore, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const select = (where: Statement.Fragment) =>
      sql<CatalogRow>`
        SELECT r.id::int AS id, r.room::int AS room, r.name, r.region, r.join_code AS "joinCode", r.disabled,
               r.default_gateway_id::int AS "defaultGatewayId", g.name AS "defaultGateway",
               g.enabled AS "defaultGatewayEnabled", r.created_at AS "createdAt", r.updated_at AS "updatedAt"
        FROM rooms r LEFT JOIN gateways g ON g.id = r.default_gateway_id
        WHERE r.removed_at IS NULL AND ${where}
        ORDER BY r.room`.pipe(Effect.orDie)

    const rooms = select(sql`true`)
    const one = (room: number) => Effect.map(select(sql`r.room = ${room}`), (rows) => rows[0])

    const userCounts = sql<{ roomId: number; users: number }>`
      SELECT room_id::int AS "roomId", count(DISTINCT user_id)::int AS users
      FROM sessions WHERE removed_at IS NULL AND room_id IS NOT NULL GROUP BY room_id`.pipe(
      Effect.map((rows) => new Map(rows.map((r) => [r.roomId, r.users]))),
      Effect.orDie
    )

    const gatewayId = (name: string | null) =>
      name === null
        ? Effect.succeed<number | null | undefined>(null)
        : sql<{ id: number }>`SELECT id::int AS id FROM gateways WHERE name = ${name}`.pipe(
          Effect.map((rows) => rows[0]?.id),
          Effect.orDie
        )

    // Unique violations become the problem they mean; anything else is a fault.
    const refusing = <A>(write: Effect.Effect<A, unknown>) =>
      write.pipe(
        Effect.catch((e): Effect.Effect<A | RoomWriteProblem> => {
          const reason = (e as { reason?: { _tag?: string; constraint?: string } }).reason
          if (reason?._tag === "UniqueViolation") {
            return Effect.succeed(reason.constraint === "rooms_join_code_key" ? "join code taken" : "exists")
          }
          return Effect.die(e)
        })
      )

    const create = (input: RoomInput) =>
      Effect.gen(function*() {
        const gateway = yield* gatewayId(input.defaultGateway)
        if (gateway === undefined) return "unknown gateway" as const
        const write = sql`
          INSERT INTO rooms (room, name, default_gateway_id, region, disabled, join_code)
          VALUES (${input.room}, ${input.name}, ${gateway}, ${input.region}, ${input.disabled}, ${input.joinCode})`
        const outcome = yield* refusing(write)
        if (typeof outcome === "string") return outcome
        return (yield* one(input.room))!
      })

    const update = (room: number, patch: RoomPatch) =>
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
            updated_at = now()
          WHERE id = ${current.id}`.pipe(Effect.orDie)
        return (yield* one(room))!
      })

    const remove = (room: number) =>
      sql`UPDATE rooms SET removed_at = now(), updated_at = now() WHERE room = ${room} AND removed_at IS NULL RETURNING id`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.orDie
      )

    return { rooms, userCounts, create, update, remove }
  }))
}
