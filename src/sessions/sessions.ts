// Sessions: keepalives and closes, each passed on to its room's entity so
// counts and the lifecycle stay serialized per room.
import { Context, Effect, Layer, Schema } from "effect"
import { type SessionInput, type SessionPlace, SessionStore } from "../db/sessionStore.ts"
import type { SessionChange } from "../rooms/entity.ts"
import { RoomListings } from "../rooms/listings.ts"
import { Rooms } from "../rooms/rooms.ts"
import { closedFeed, type JanusEvent } from "./messages.ts"

export class UnknownRoom extends Schema.TaggedError<UnknownRoom>()("UnknownRoom", { room: Schema.Number }) {
  override get message() {
    return `room: no room ${this.room}`
  }
}

export class UnknownGateway extends Schema.TaggedError<UnknownGateway>()("UnknownGateway", { gateway: Schema.String }) {
  override get message() {
    return `janus: no gateway named ${this.gateway}`
  }
}

export class Sessions extends Context.Service<Sessions, {
  /** A keepalive: upserts the session and tells its room. */
  readonly keepalive: (input: SessionInput) => Effect.Effect<void, UnknownRoom | UnknownGateway>
  /** Janus events: each videoroom leaving/kicked/unpublished closes its session; answers how many closed. */
  readonly janusEvents: (events: JanusEvent | ReadonlyArray<JanusEvent>) => Effect.Effect<number>
  /** Closes sessions without a keepalive since `before`; undefined when another process is sweeping. */
  readonly closeDead: (before: Date) => Effect.Effect<{ readonly sessions: number; readonly emptied: number } | undefined>
}>()("room-orchestrator/Sessions") {
  static readonly layer = Layer.effect(Sessions, Effect.gen(function*() {
    const store = yield* SessionStore
    const rooms = yield* Rooms
    const listings = yield* RoomListings

    // The session row is already written: a room that cannot be told now
    // (busy, unavailable) learns it from the next keepalive or the cleaner.
    const tell = (change: SessionChange, place: SessionPlace) =>
      (change === "updated" ? Effect.void : listings.membershipChanged).pipe(
        Effect.andThen(rooms.changeSession(place.room, change, String(place.session), place.gateway)),
        Effect.tapError((e) => Effect.logWarning("Room not told of a session change").pipe(
          Effect.annotateLogs({ room_id: place.room, change, reason: e.message })
        )),
        Effect.option
      )

    const keepalive = (input: SessionInput) =>
      Effect.gen(function*() {
        const outcome = yield* store.upsert(input)
        switch (outcome._tag) {
          case "UnknownRoom":
            return yield* new UnknownRoom({ room: input.room })
          case "UnknownGateway":
            return yield* new UnknownGateway({ gateway: input.gateway })
          case "Joined":
            if (outcome.left !== undefined) yield* tell("left", outcome.left)
            yield* tell("joined", outcome.place)
            return
          case "Updated":
            yield* tell("updated", outcome.place)
            return
        }
      })

    const closeAll = (places: ReadonlyArray<SessionPlace>) =>
      Effect.forEach(places, (p) => tell("left", p), { concurrency: 16 })

    const closeFeed = (feed: number, gateway: string | undefined) =>
      Effect.flatMap(store.closeByFeed(feed, gateway), (places) => Effect.as(closeAll(places), places.length))

    const janusEvents = (events: JanusEvent | ReadonlyArray<JanusEvent>) =>
      Effect.gen(function*() {
        let closed = 0
        for (const event of Array.isArray(events) ? events : [events as JanusEvent]) {
          const close = closedFeed(event)
          if (close !== undefined) closed += yield* closeFeed(close.feed, close.gateway)
        }
        return closed
      })

    const closeDead = (before: Date) =>
      Effect.gen(function*() {
        const places = yield* store.closeDead(before)
        if (places === undefined) return undefined
        const statuses = yield* closeAll(places)
        const emptied = new Set(
          statuses.flatMap((s) => (s._tag === "Some" && s.value.sessions === 0 ? [s.value.room] : []))
        ).size
        return { sessions: places.length, emptied }
      })

    return { keepalive, janusEvents, closeDead }
  }))
}
