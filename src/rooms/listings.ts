// What operators and clients list: /groups (the catalog, static default
// gateways) and /rooms (rooms in use, with the live gateway and users).
import { Context, Duration, Effect, Layer } from "effect"
import { Config } from "../config.ts"
import { CatalogStore } from "../db/catalogStore.ts"
import { type LiveSessionRow, SessionStore } from "../db/sessionStore.ts"
import { RoomCatalog } from "./catalog.ts"

export interface GroupEntry {
  readonly room: number
  readonly janus: string
  readonly description: string
  readonly num_users: number
}

export interface LiveUser {
  readonly id: string
  readonly display: string
  readonly email: string
  readonly janus: string
  readonly camera: boolean
  readonly mic: boolean
  readonly screen: boolean
  readonly question: boolean
  readonly self_test: boolean
  readonly sound_test: boolean
  readonly country: string
  /** When the session started, epoch ms. */
  readonly joined: number
  /** Its last keepalive, epoch ms. */
  readonly timestamp: number
}

export interface LiveRoom {
  readonly room: number
  readonly janus: string
  readonly description: string
  readonly num_users: number
  readonly questions: boolean
  readonly users: ReadonlyArray<LiveUser>
}

/**
 * How stale /rooms may be. The listing is one query over every live session,
 * shared by all callers within this window; a session joining or leaving
 * through this process drops it at once, so only display fields (camera,
 * question, …) and other processes' changes can lag by this much.
 */
export const liveListingTtl = Duration.seconds(1)

export class RoomListings extends Context.Service<RoomListings, {
  readonly groups: (withNumUsers: boolean) => Effect.Effect<ReadonlyArray<GroupEntry>>
  readonly live: (room?: number) => Effect.Effect<ReadonlyArray<LiveRoom>>
  /** Every live room as JSON text, serialized once per listing. */
  readonly liveJson: Effect.Effect<string>
  /** Forgets the cached /rooms listing (a session joined or left). */
  readonly membershipChanged: Effect.Effect<void>
}>()("room-orchestrator/RoomListings") {
  static readonly layer = Layer.effect(RoomListings, Effect.gen(function*() {
    const config = yield* Config
    const catalog = yield* RoomCatalog
    const catalogStore = yield* CatalogStore
    const sessions = yield* SessionStore

    const groups = (withNumUsers: boolean) =>
      Effect.gen(function*() {
        const rooms = yield* catalog.enabled
        const counts = withNumUsers ? yield* catalogStore.userCounts : new Map<number, number>()
        return rooms.map((r): GroupEntry => ({
          room: r.room,
          janus: r.defaultGateway ?? "",
          description: r.name,
          num_users: counts.get(r.id) ?? 0
        }))
      })

    // Scale mode shows where the room really is; legacy mode (or no assignment) its default.
    const janusOf = (row: LiveSessionRow) =>
      (config.scale ? row.assignedGateway : null) ?? row.defaultGateway ?? ""

    const listing = (room?: number) =>
      Effect.map(sessions.live(room), (rows) => {
        const byRoom = new Map<number, { first: LiveSessionRow; users: Array<LiveUser> }>()
        for (const row of rows) {
          const entry = byRoom.get(row.room) ?? { first: row, users: [] }
          entry.users.push({
            id: row.userId,
            display: row.display ?? "",
            email: row.email ?? "",
            janus: row.gateway ?? "",
            camera: row.camera,
            mic: row.mic,
            screen: row.screen,
            question: row.question,
            self_test: row.selfTest,
            sound_test: row.soundTest,
            country: row.country ?? "",
            joined: row.joinedAt.getTime(),
            timestamp: row.keepaliveAt.getTime()
          })
          byRoom.set(row.room, entry)
        }
        return [...byRoom.values()].map(({ first, users }): LiveRoom => ({
          room: first.room,
          janus: janusOf(first),
          description: first.name,
          num_users: new Set(users.map((u) => u.id)).size,
          questions: users.some((u) => u.question),
          users
        }))
      })

    const [everyRoom, membershipChanged] = yield* Effect.cachedInvalidateWithTTL(
      Effect.map(listing(), (rooms) => ({ rooms, json: JSON.stringify(rooms) })),
      liveListingTtl
    )
    const live = (room?: number) =>
      Effect.map(everyRoom, ({ rooms }) => (room === undefined ? rooms : rooms.filter((r) => r.room === room)))

    return { groups, live, liveJson: Effect.map(everyRoom, ({ json }) => json), membershipChanged }
  }))
}
