// What a real-time connection does to a room: joining drives the room like
// any session (scale mode: the room's machine gives its gateway; legacy: the
// room's default), then opens the connection's session there; updates change
// its media flags; leaving closes it. Failures become `{error}` messages.
import { Context, Effect, Layer } from "effect"
import type { MediaPatch, SessionPlace } from "../db/sessionStore.ts"
import { SessionStore } from "../db/sessionStore.ts"
import { DatabaseOutage } from "../db/databaseOutage.ts"
import type { DomainFailure } from "../domain/errors.ts"
import type { RoomId } from "../domain/room.ts"
import { RoomGateway } from "../rooms/roomGateway.ts"
import { Sessions } from "../sessions/sessions.ts"
import { Meetings } from "../meetings/meetings.ts"
import { ChannelRefusal } from "./socketEvents.ts"
import { type MemberView, memberView, type RoomView, roomView } from "../meetings/views.ts"

/** A connection in a room: its session and who it is. */
export interface Membership {
  readonly place: SessionPlace
  readonly userId: string
}

export interface Joined {
  readonly membership: Membership
  readonly room: RoomView
  readonly janus: string
  readonly users: ReadonlyArray<MemberView>
  readonly user: MemberView
}

export class Members extends Context.Service<Members, {
  /** createRoom: the room exists and has a gateway (scale mode reserves it, as POST /v2/room_server does). */
  readonly prepare: (room: RoomId, country?: string) => Effect.Effect<{ readonly room: RoomView; readonly janus: string }, ChannelRefusal>
  readonly join: (
    userId: string,
    request: { readonly roomId: RoomId; readonly display?: string | undefined; readonly country?: string | undefined }
  ) => Effect.Effect<Joined, ChannelRefusal>
  readonly update: (membership: Membership, media: MediaPatch) => Effect.Effect<MemberView, ChannelRefusal>
  /** Closes the membership's session and tells its room; nothing when it was closed already. */
  readonly leave: (membership: Membership) => Effect.Effect<void, ChannelRefusal>
  /** The room's live users, from the sessions table. */
  readonly users: (room: RoomId) => Effect.Effect<ReadonlyArray<MemberView>, ChannelRefusal>
  /** Keeps these sessions alive (the dead-session cleaner spares them); answers those still live. */
  readonly touch: (sessions: ReadonlyArray<number>) => Effect.Effect<ReadonlySet<number>, ChannelRefusal>
}>()("room-orchestrator/Members") {
  static readonly layer = Layer.effect(Members, Effect.gen(function*() {
    const meetings = yield* Meetings
    const roomGateway = yield* RoomGateway
    const sessions = yield* Sessions
    const store = yield* SessionStore
    const outage = yield* DatabaseOutage

    const refuse = (message: string) => new ChannelRefusal({ message })

    // A database outage is reported once a second at most, as for HTTP.
    const refused = <A, R>(effect: Effect.Effect<A, DomainFailure | ChannelRefusal, R>): Effect.Effect<A, ChannelRefusal, R> =>
      effect.pipe(
        Effect.tapError((e) => (e._tag === "DatabaseUnavailable" ? outage.report(e) : Effect.void)),
        Effect.mapError((e) => (e._tag === "ChannelRefusal" ? e : refuse(e.message)))
      )

    const known = (room: RoomId) =>
      Effect.flatMap(meetings.find(room), (row) => (row === undefined ? Effect.fail(refuse(`room ${room} not found`)) : Effect.succeed(row)))

    const prepare = (room: RoomId, country?: string) =>
      refused(Effect.gen(function*() {
        const row = yield* known(room)
        const janus = yield* roomGateway.gatewayFor(row.room, country)
        return { room: roomView(row), janus }
      }))

    const join: Members["Service"]["join"] = (userId, request) =>
      refused(Effect.gen(function*() {
        const row = yield* known(request.roomId)
        const country = request.country || undefined
        const janus = yield* roomGateway.gatewayFor(row.room, country)
        const place = yield* sessions.openSocket({ userId, room: row.room, gateway: janus, display: request.display ?? null, country: country ?? null })
        const membership = { place, userId }
        // Once the session is open, a failure below must not leave it behind.
        return yield* Effect.gen(function*() {
          const users = (yield* store.live(row.room)).map(memberView)
          const user = users.find((u) => u.id === String(place.session))
          if (user === undefined) return yield* refuse("your session was closed while joining: join again")
          return { membership, room: roomView(row), janus, users, user }
        }).pipe(Effect.onError(() => Effect.ignore(sessions.closeSocket(place.session))))
      }))

    const update = (membership: Membership, media: MediaPatch) =>
      refused(Effect.gen(function*() {
        const gone = refuse("your session was closed (the connection was idle too long or the room was removed): join again")
        if (!(yield* sessions.updateSocket(membership.place, media))) return yield* gone
        const row = yield* store.liveSession(membership.place.session)
        if (row === undefined) return yield* gone
        return memberView(row)
      }))

    return {
      prepare,
      join,
      update,
      leave: (membership) => refused(Effect.asVoid(sessions.closeSocket(membership.place.session))),
      users: (room) => refused(Effect.flatMap(known(room), (row) => Effect.map(store.live(row.room), (rows) => rows.map(memberView)))),
      touch: (ids) => refused(store.touch(ids))
    }
  }))
}
