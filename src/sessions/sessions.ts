// Sessions: keepalives and closes, each passed on to its room's entity so
// counts and the lifecycle stay serialized per room. A room that cannot be
// told is a failure the caller sees (503); the cleaner's recount repairs any
// room that missed a change anyway.
import { Clock, Context, Effect, Layer, Stream } from "effect"
import { hearsKeepalives } from "../../machines/step.ts"
import { AppConfig } from "../config.ts"
import { type MediaPatch, type SessionPlace, SessionStore, type SocketSessionInput, type UnknownPlace } from "../db/sessionStore.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import { BadEvent, type DatabaseUnavailable, ForeignGatewayEvent, ProtocolError, type RoomUnavailable } from "../domain/errors.ts"
import type { RoomId } from "../domain/room.ts"
import type { RoomStatus, SessionChange } from "../rooms/roomProtocol.ts"
import { countFieldNotes, countSessionsOverLimit } from "../metrics/events.ts"
import { RoomChanges } from "../rooms/changes.ts"
import { RoomListings } from "../rooms/listings.ts"
import { Rooms } from "../rooms/roomClient.ts"
import { Acknowledged, type SessionKey } from "./acknowledged.ts"
import { makeKeepaliveBatch } from "./keepaliveBatch.ts"
import { type ClosedFeed, closedFeed, type JanusEvent, toSessionInput, type UserSessionBody } from "./wireSchemas.ts"

/** Why telling rooms failed: the database or a room did not answer. */
export type Unavailable = DatabaseUnavailable | RoomUnavailable

/** The store's outcome for a session; one that names a room or a gateway the service does not know is refused, naming which. */
const placed = <O extends { readonly _tag: string }>(outcome: O | UnknownPlace, input: { readonly room: RoomId; readonly gateway: string }) =>
  outcome._tag === "UnknownRoom"
    ? Effect.fail(new ProtocolError({ reason: `unknown room ${input.room}` }))
    : outcome._tag === "UnknownGateway"
    ? Effect.fail(new ProtocolError({ reason: `unknown gateway ${input.gateway}` }))
    : Effect.succeed(outcome as O)

export class Sessions extends Context.Service<Sessions, {
  /**
   * A keepalive of `user`: upserts the session and tells its room. Fields
   * that do not identify the session are kept when storable, otherwise
   * normalised or dropped (counted and logged), never refused.
   */
  readonly keepalive: (user: string, body: UserSessionBody) => Effect.Effect<void, ProtocolError | Unavailable>
  /**
   * Janus events: each videoroom leaving/kicked/unpublished closes the
   * sessions of its feed; answers how many closed. A batch with an unreadable
   * feed id is refused whole. Posted by gateway `from` (its own credentials),
   * they close sessions on that gateway only, and one naming another
   * registered gateway as its emitter refuses the batch.
   */
  readonly janusEvents: (
    events: JanusEvent | ReadonlyArray<JanusEvent>,
    from?: string
  ) => Effect.Effect<number, BadEvent | ForeignGatewayEvent | Unavailable>
  /**
   * Closes sessions without a keepalive since `before` and tells their rooms;
   * undefined when another process is sweeping. Rooms that could not be told
   * are counted as `untold` (the recount repairs them).
   */
  readonly closeDead: (before: Date) => Effect.Effect<{ readonly sessions: number; readonly emptied: number; readonly untold: number } | undefined, DatabaseUnavailable>
  /** A real-time connection joins a room on `gateway`: opens its session and tells the room. */
  readonly openSocket: (input: SocketSessionInput) => Effect.Effect<SessionPlace, ProtocolError | Unavailable>
  /** A real-time connection changes its media flags; false when its session is closed. */
  readonly updateSocket: (place: SessionPlace, media: MediaPatch) => Effect.Effect<boolean, Unavailable>
  /** A real-time connection leaves: closes its session and tells the room; false when it was closed already. */
  readonly closeSocket: (session: number) => Effect.Effect<boolean, Unavailable>
}>()("room-orchestrator/Sessions") {
  static readonly layer = Layer.effect(Sessions, Effect.gen(function*() {
    const config = yield* AppConfig
    const store = yield* SessionStore
    const gateways = yield* GatewayStore
    const rooms = yield* Rooms
    const listings = yield* RoomListings

    const acknowledged = new Acknowledged(acknowledgedFor)
    const refresh = yield* makeKeepaliveBatch(store, config.keepaliveBatchWindow)

    // A room that leaves `assigned` (in any process) hears its sessions'
    // next keepalives again; a reader that fell behind forgets everything.
    let lastPosition: number | undefined
    yield* (yield* (yield* RoomChanges).subscribe).pipe(
      Stream.runForEach(({ position, change }) =>
        Effect.sync(() => {
          if (lastPosition !== undefined && position !== lastPosition + 1) acknowledged.forgetAll()
          lastPosition = position
          if (hearsKeepalives(change.state)) acknowledged.forgetRoom(change.room)
        })),
      Effect.forkScoped
    )

    // Legacy mode has no room lifecycle (and writes no assignment): only the listings change.
    const tell = (change: SessionChange, place: SessionPlace, key?: SessionKey): Effect.Effect<RoomStatus, Unavailable> =>
      Effect.suspend(() => {
        const epoch = acknowledged.epochOf(place.room)
        return (change === "updated" ? Effect.void : listings.membershipChanged).pipe(
          Effect.andThen(config.scale ? rooms.changeSession(place.room, change, String(place.session), place.gateway) : Effect.succeed(gone(place.room))),
          // the room was removed after the session was written: nothing to tell
          Effect.catchTag("RoomNotFound", () => Effect.succeed(gone(place.room))),
          Effect.tap((status) => {
            if (change === "left") return Effect.sync(() => acknowledged.remove(place.session))
            // only a room that counts the session on its gateway may be spared its keepalives
            if (config.scale && hearsKeepalives(status.state)) return Effect.void
            return Effect.map(Clock.currentTimeMillis, (now) => acknowledged.add(place, now, key, epoch))
          })
        )
      })

    // A keepalive of a session its room already counts changes nothing there.
    const tellUpdated = (place: SessionPlace, key: SessionKey) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => (acknowledged.has(place, now) ? Effect.void : tell("updated", place, key)))

    // A session its room already counts, in the same room: written in a
    // batch by its id; anything else (or a session closed meanwhile) takes
    // the full upsert and tells the room.
    const keepalive = (user: string, body: UserSessionBody) =>
      Effect.gen(function*() {
        const { input, notes } = toSessionInput(user, body)
        yield* countFieldNotes(notes)
        // gxydb-api refuses a session without its feed id: nothing could close it.
        if (input.gatewayFeed === null || input.gatewayFeed === "") return yield* new ProtocolError({ reason: "rfid is empty" })
        const now = yield* Clock.currentTimeMillis
        const epoch = acknowledged.epochOf(input.room)
        const known = acknowledged.sessionOf(input, now)
        if (known !== undefined && (yield* refresh(known, input))) {
          // still live in the room that counts it: acknowledged for another window
          return acknowledged.add({ session: known, room: input.room, gateway: input.gateway }, now, input, epoch)
        }
        const outcome = yield* Effect.flatMap(store.upsert(input), (o) => placed(o, input))
        switch (outcome._tag) {
          case "Joined":
            if (outcome.left !== undefined) yield* tell("left", outcome.left)
            yield* tell("joined", outcome.place, input)
            if (outcome.userSessions > config.maxSessionsPerUser) yield* keepWithinLimit(input.userId)
            return
          case "Updated":
            yield* tellUpdated(outcome.place, input)
            return
        }
      })

    // A user holds at most MAX_SESSIONS_PER_USER live sessions: a new one
    // beyond closes the oldest, and their rooms hear them leave.
    const keepWithinLimit = (userId: string) =>
      Effect.gen(function*() {
        const closed = yield* store.closeBeyond(userId, config.maxSessionsPerUser)
        if (closed.length === 0) return
        yield* countSessionsOverLimit(closed.length)
        yield* Effect.logInfo("Closed sessions over the per-user limit").pipe(
          Effect.annotateLogs({ user_id: userId, sessions: closed.length, limit: config.maxSessionsPerUser })
        )
        yield* tellAll(closed)
      })

    // Every room is told, even when one fails; then the first failure is reported.
    const tellAll = (places: ReadonlyArray<SessionPlace>) =>
      Effect.forEach(places, (p) => Effect.result(tell("left", p)), { concurrency: 16 })

    const closeFeed = ({ feed, emitter, notes }: ClosedFeed) =>
      Effect.gen(function*() {
        yield* countFieldNotes(notes)
        const places = yield* store.closeByFeed(feed, emitter)
        for (const told of yield* tellAll(places)) if (told._tag === "Failure") return yield* Effect.fail(told.failure)
        return places.length
      })

    const registered = (name: string) => Effect.map(gateways.list, (list) => list.some((g) => g.name === name))

    const janusEvents = (events: JanusEvent | ReadonlyArray<JanusEvent>, from?: string) =>
      Effect.gen(function*() {
        const closes: Array<ClosedFeed> = []
        for (const event of Array.isArray(events) ? events : [events as JanusEvent]) {
          const close = closedFeed(event)
          if (close === undefined) continue
          if ("invalid" in close) return yield* new BadEvent({ reason: close.invalid })
          if (from === undefined) {
            closes.push(close)
            continue
          }
          // Janus may name itself by its server name: only another registered gateway is foreign.
          if (close.emitter !== undefined && close.emitter !== from && (yield* registered(close.emitter))) {
            return yield* new ForeignGatewayEvent({ gateway: from, emitter: close.emitter })
          }
          closes.push({ ...close, emitter: from })
        }
        let closed = 0
        for (const close of closes) closed += yield* closeFeed(close)
        return closed
      })

    const closeDead = (before: Date) =>
      Effect.gen(function*() {
        const places = yield* store.closeDead(before)
        if (places === undefined) return undefined
        const told = yield* tellAll(places)
        const emptied = new Set(told.flatMap((t) => (t._tag === "Success" && t.success.state === "draining" && t.success.sessions === 0 ? [t.success.room] : []))).size
        return { sessions: places.length, emptied, untold: told.filter((t) => t._tag === "Failure").length }
      })

    const openSocket = (input: SocketSessionInput) =>
      Effect.gen(function*() {
        const { place } = yield* Effect.flatMap(store.openSocket(input), (o) => placed(o, input))
        yield* tell("joined", place)
        yield* keepWithinLimit(input.userId)
        return place
      })

    const updateSocket = (place: SessionPlace, media: MediaPatch) =>
      Effect.flatMap(store.setMedia(place.session, media), (live) => (live ? Effect.as(tell("updated", place), true) : Effect.succeed(false)))

    const closeSocket = (session: number) =>
      Effect.flatMap(store.close(session), (place) => (place === undefined ? Effect.succeed(false) : Effect.as(tell("left", place), true)))

    return { keepalive, janusEvents, closeDead, openSocket, updateSocket, closeSocket }
  }))
}

/** How long a room's acknowledgement of a session spares telling it again (one to two of these). */
const acknowledgedFor = 60_000

/** What a room without a lifecycle (legacy mode, or removed) reports. */
const gone = (room: RoomId): RoomStatus => ({ room, state: "idle", gateway: null, region: null, sessions: 0, deadline: null, seq: 0 })
