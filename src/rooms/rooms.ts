// Rooms: how the rest of the service talks to Room entities. Every call has
// a deadline; a room that does not answer in time is reported unavailable
// (a 503 for clients) instead of leaving the caller waiting.
import { Context, Duration, Effect, Layer, Schema } from "effect"
import { NoGatewayAvailable, Room, RoomNotFound, type RoomStatus, type SessionChange } from "./entity.ts"

export class RoomUnavailable extends Schema.TaggedError<RoomUnavailable>()("RoomUnavailable", {
  room: Schema.Number,
  message: Schema.String
}) {}

/** How long a caller waits for a room before answering 503. */
export const roomCallTimeout = Duration.seconds(5)

export class Rooms extends Context.Service<Rooms, {
  readonly requestServer: (room: number, country?: string) => Effect.Effect<string, RoomNotFound | NoGatewayAvailable | RoomUnavailable>
  readonly changeSession: (room: number, change: SessionChange, session: string, gateway: string) => Effect.Effect<RoomStatus, RoomNotFound | RoomUnavailable>
  readonly gatewayDown: (room: number, gateway: string) => Effect.Effect<RoomStatus, RoomNotFound | RoomUnavailable>
  readonly status: (room: number) => Effect.Effect<RoomStatus, RoomNotFound | RoomUnavailable>
  /** Fire-and-forget: the room fires its due timers. */
  readonly wake: (room: number) => Effect.Effect<void>
}>()("room-orchestrator/Rooms") {
  static readonly layer = Layer.effect(Rooms, Effect.suspend(() => makeRooms(roomCallTimeout)))
  static readonly layerWithTimeout = (timeout: Duration.Duration) => Layer.effect(Rooms, makeRooms(timeout))
}

const makeRooms = (timeout: Duration.Duration) =>
  Effect.gen(function*() {
    const client = yield* Room.client

    // Domain errors pass through; a timeout or a cluster failure becomes RoomUnavailable.
    const guard = <A, E>(room: number, call: Effect.Effect<A, E>) =>
      call.pipe(
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () => Effect.fail(new RoomUnavailable({ room, message: `room ${room} did not answer within ${Duration.format(timeout)}` }))
        }),
        Effect.catchIf(
          (e): e is Exclude<E, RoomNotFound | NoGatewayAvailable | RoomUnavailable> =>
            !(e instanceof RoomNotFound || e instanceof NoGatewayAvailable || e instanceof RoomUnavailable),
          (e) => Effect.fail(new RoomUnavailable({ room, message: `room ${room} is unavailable: ${String((e as { _tag?: string })._tag ?? e)}` }))
        ),
        // A room that failed (its database write, say) is a dependency down, not a client error.
        Effect.catchDefect((defect) =>
          Effect.logError("Room failed").pipe(
            Effect.annotateLogs({ room_id: room, cause: String(defect) }),
            Effect.andThen(Effect.fail(new RoomUnavailable({ room, message: `room ${room} is unavailable` })))
          ))
      ) as Effect.Effect<A, Extract<E, RoomNotFound | NoGatewayAvailable> | RoomUnavailable>

    return {
      requestServer: (room, country) =>
        guard(room, client(String(room)).RequestServer({ country })).pipe(Effect.map((r) => r.gateway)),
      changeSession: (room, change, session, gateway) =>
        guard(room, client(String(room)).ChangeSession({ change, session, gateway })),
      gatewayDown: (room, gateway) => guard(room, client(String(room)).GatewayDown({ gateway })),
      status: (room) => guard(room, client(String(room)).GetStatus(undefined)),
      wake: (room) => client(String(room)).Wake(undefined, { discard: true }).pipe(Effect.ignore)
    } satisfies Rooms["Service"]
  })
