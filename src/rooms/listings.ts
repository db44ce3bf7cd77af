// What operators and clients list, in gxydb-api's shapes: /groups (the
// catalog, static default gateways) and /rooms, /room/:id (rooms in use,
// with the live gateway and every user field the client last sent).
import { Context, Duration, Effect, Layer } from "effect"
import { AppConfig } from "../config.ts"
import { type CatalogRow, CatalogStore } from "../db/catalogStore.ts"
import { RoomStore } from "../db/roomStore.ts"
import { type LiveSessionRow, SessionStore } from "../db/sessionStore.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import type { GroupEntry, LiveRoom, LiveUser } from "../domain/listing.ts"
import { type RoomId, roomIdOut } from "../domain/room.ts"
import { RoomCatalog } from "./catalog.ts"

/**
 * How stale /rooms may be. The listing is one query over every live session,
 * shared by all callers within this window; a session joining or leaving
 * through this process drops it at once, so only display fields (camera,
 * question, …) and other processes' changes can lag by this much.
 */
export const liveListingTtl = Duration.seconds(1)

const byName = new Intl.Collator("en", { numeric: true })

/**
 * Which rooms a listing shows: `configured`, the rooms Galaxy knows (kind
 * gxydb; /groups and /rooms by default), or `all`, meeting rooms too.
 */
export type ListedKinds = "configured" | "all"

const listed = (kinds: ListedKinds) => (room: CatalogRow) => kinds === "all" || room.kind === "gxydb"

export class RoomListings extends Context.Service<RoomListings, {
  readonly groups: (withNumUsers: boolean, kinds: ListedKinds) => Effect.Effect<ReadonlyArray<GroupEntry>, DatabaseUnavailable>
  /** Every room with live sessions, sorted by description. */
  readonly live: (kinds: ListedKinds) => Effect.Effect<ReadonlyArray<LiveRoom>, DatabaseUnavailable>
  /** One room of the catalog, of any kind (users may be none); undefined when unknown or disabled. */
  readonly room: (room: RoomId) => Effect.Effect<LiveRoom | undefined, DatabaseUnavailable>
  /** Every live room as JSON text, serialized once per listing (the same object until the listing changes). */
  readonly liveJson: (kinds: ListedKinds) => Effect.Effect<{ readonly json: string }, DatabaseUnavailable>
  /** Forgets the cached /rooms listing (a session joined or left). */
  readonly membershipChanged: Effect.Effect<void>
}>()("room-orchestrator/RoomListings") {
  static readonly layer = Layer.effect(RoomListings, Effect.gen(function*() {
    const config = yield* AppConfig
    const catalog = yield* RoomCatalog
    const catalogStore = yield* CatalogStore
    const roomStore = yield* RoomStore
    const sessions = yield* SessionStore
    const idOut = (id: RoomId) => roomIdOut(id, config.roomIdsAsStrings)

    const groups = (withNumUsers: boolean, kinds: ListedKinds) =>
      Effect.gen(function*() {
        const rooms = (yield* catalog.enabled).filter(listed(kinds))
        const counts = withNumUsers ? yield* catalogStore.userCounts : new Map<number, { users: number; questions: boolean }>()
        return rooms.map((r): GroupEntry => ({
          ...roomFields(r, r.defaultGateway),
          num_users: counts.get(r.id)?.users ?? 0,
          questions: counts.get(r.id)?.questions ?? false
        }))
      })

    const roomFields = (r: CatalogRow, janus: string | null) => ({
      room: idOut(r.room),
      janus: janus ?? "",
      description: r.name,
      region: r.region ?? "",
      extra: r.extra ?? null
    })

    const userOf = (row: LiveSessionRow, room: CatalogRow): LiveUser => ({
      id: row.userId,
      display: row.display ?? "",
      email: row.email ?? "",
      group: row.groupName ?? room.name,
      ip: row.ip ?? "",
      janus: row.gateway ?? "",
      name: row.clientName ?? "",
      role: row.role ?? "user",
      system: row.userAgent ?? "",
      username: row.username ?? "",
      room: idOut(row.room),
      timestamp: row.clientTimestamp ?? row.keepaliveAt.getTime(),
      session: row.gatewaySession,
      handle: row.gatewayHandle ?? 0,
      rfid: row.gatewayFeed ?? "",
      textroom_handle: row.gatewayTextroomHandle ?? 0,
      camera: row.camera,
      question: row.question,
      self_test: row.selfTest,
      sound_test: row.soundTest,
      extra: row.extra ?? null,
      mic: row.mic,
      screen: row.screen,
      country: row.country ?? "",
      joined: row.joinedAt.getTime()
    })

    // Scale mode shows where the room really is; legacy mode (or no assignment) its default.
    const janusOf = (room: CatalogRow, assigned: string | undefined) =>
      (config.scale ? assigned : undefined) ?? room.defaultGateway

    const liveRoom = (room: CatalogRow, rows: ReadonlyArray<LiveSessionRow>, assigned: string | undefined): LiveRoom => {
      const users = rows.map((row) => userOf(row, room))
      return {
        ...roomFields(room, janusOf(room, assigned)),
        // gxydb-api counts connections: a user on two devices is two
        num_users: users.length,
        questions: users.some((u) => u.question),
        users
      }
    }

    const listing = Effect.gen(function*() {
      const rows = yield* sessions.live()
      const assignments = config.scale ? yield* roomStore.assignments : new Map<RoomId, string>()
      const byRoom = new Map<RoomId, Array<LiveSessionRow>>()
      for (const row of rows) {
        const list = byRoom.get(row.room)
        if (list === undefined) byRoom.set(row.room, [row])
        else list.push(row)
      }
      const rooms: Array<{ readonly row: CatalogRow; readonly room: LiveRoom }> = []
      for (const [id, roomRows] of byRoom) {
        const row = yield* catalog.find(id)
        if (row !== undefined && !row.disabled) rooms.push({ row, room: liveRoom(row, roomRows, assignments.get(id)) })
      }
      return rooms.sort(({ room: a }, { room: b }) => byName.compare(a.description, b.description) || byName.compare(String(a.room), String(b.room)))
    })

    // Each kind's JSON is made once per listing, on its first reader.
    const [everyRoom, membershipChanged] = yield* Effect.cachedInvalidateWithTTL(
      Effect.map(listing, (rooms) => {
        const views = new Map<ListedKinds, { readonly rooms: ReadonlyArray<LiveRoom>; readonly json: string }>()
        return (kinds: ListedKinds) => {
          let view = views.get(kinds)
          if (view === undefined) {
            const shown = rooms.filter(({ row }) => listed(kinds)(row)).map(({ room }) => room)
            views.set(kinds, view = { rooms: shown, json: JSON.stringify(shown) })
          }
          return view
        }
      }),
      liveListingTtl
    )

    const room = (id: RoomId) =>
      Effect.gen(function*() {
        const row = yield* catalog.find(id)
        if (row === undefined || row.disabled) return undefined
        const rows = yield* sessions.live(id)
        const assigned = config.scale ? (yield* roomStore.loadAssignment(row.id))?.gateway : undefined
        return liveRoom(row, rows, assigned)
      })

    return {
      groups,
      live: (kinds) => Effect.map(everyRoom, (view) => view(kinds).rooms),
      room,
      liveJson: (kinds) => Effect.map(everyRoom, (view) => view(kinds)),
      membershipChanged
    }
  }))
}
