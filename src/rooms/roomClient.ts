// Rooms: how the rest of the service talks to Room entities. Every call has
// a deadline; a room that does not answer in time is reported unavailable
// (a 503 for clients) instead of leaving the caller waiting.
import { Cause, Context, Duration, Effect, Layer, Schedule } from "effect"
import { DatabaseOutage } from "../db/databaseOutage.ts"
import { DatabaseUnavailable, NoGatewayAvailable, RoomNotFound, RoomUnavailable } from "../domain/errors.ts"
import type { RoomId } from "../domain/room.ts"
import { Room, type RoomStatus, type SessionChange } from "./roomProtocol.ts"

/** How long a caller waits for a room before answering 503: longer than the takeover of a killed process's rooms. */
export const roomCallTimeout = Duration.seconds(10)

/**
 * A room that has not answered after this long is waited for only while the
 * database answers: without it no process can hold the room's shard or
 * commit its step, so the caller gets a 503 at once, not after the timeout.
 */
const databaseCheckAfter = Duration.millis(250)

export type RoomFailure = RoomNotFound | RoomUnavailable | DatabaseUnavailable

export class Rooms extends Context.Service<Rooms, {
  /** The room's gateway, and how many sessions the room counts (it is `assigned` when it answers). */
  readonly requestServer: (room: RoomId, country?: string) => Effect.Effect<{ readonly gateway: string; readonly sessions: number }, RoomFailure | NoGatewayAvailable>
  readonly changeSession: (room: RoomId, change: SessionChange, session: string, gateway: string) => Effect.Effect<RoomStatus, RoomFailure>
  /** The room recounts its sessions from the sessions table. */
  readonly syncSessions: (room: RoomId) => Effect.Effect<RoomStatus, RoomFailure>
  readonly gatewayDown: (room: RoomId, gateway: string) => Effect.Effect<RoomStatus, RoomFailure>
  /** An operator frees the room's assignment (the room lets it go only when empty); answers the room after. */
  readonly releaseAssignment: (room: RoomId) => Effect.Effect<RoomStatus, RoomFailure>
  /** An operator moves the room: to `gateway`, or where the balancer chooses; answers the room after. */
  readonly reassign: (room: RoomId, gateway?: string) => Effect.Effect<RoomStatus, RoomFailure>
  readonly status: (room: RoomId) => Effect.Effect<RoomStatus, RoomFailure>
  /** The room loads itself again from storage. */
  readonly reload: (room: RoomId) => Effect.Effect<RoomStatus, RoomFailure>
  /** Fire-and-forget: the room fires its due timers. */
  readonly wake: (room: RoomId) => Effect.Effect<void>
}>()("room-orchestrator/Rooms") {
  static readonly layer = Layer.effect(Rooms, Effect.suspend(() => makeRooms(roomCallTimeout)))
  static readonly layerWithTimeout = (timeout: Duration.Duration) => Layer.effect(Rooms, makeRooms(timeout))
}

const isDomainFailure = (e: unknown): e is RoomNotFound | NoGatewayAvailable | DatabaseUnavailable | RoomUnavailable =>
  e instanceof RoomNotFound || e instanceof NoGatewayAvailable || e instanceof DatabaseUnavailable || e instanceof RoomUnavailable

const makeRooms = (timeout: Duration.Duration) =>
  Effect.gen(function*() {
    const client = yield* Room.client
    const outage = yield* DatabaseOutage

    const databaseAway = (room: RoomId) =>
      Effect.sleep(databaseCheckAfter).pipe(
        Effect.andThen(outage.reachable),
        Effect.repeat({ while: (up) => up, schedule: Schedule.spaced(databaseCheckAfter) }),
        Effect.andThen(Effect.fail(new DatabaseUnavailable({ operation: `room ${room}`, reason: "the database does not answer" })))
      )

    // Domain errors pass through; a timeout or a cluster failure becomes
    // RoomUnavailable. A call interrupted on the way (its shard moved to
    // another process) is made once more: every room message is idempotent
    // (a request is sticky, a join or leave of a session already counted
    // or gone changes nothing).
    const guard = <A, E>(room: RoomId, call: Effect.Effect<A, E>) =>
      call.pipe(
        Effect.catchCause((cause) => (Cause.hasInterruptsOnly(cause) ? call : Effect.failCause(cause))),
        Effect.catchCause((cause): Effect.Effect<A, E | RoomUnavailable> =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.fail(new RoomUnavailable({ room, message: `room ${room} is moving between processes; try again` }))
            : Effect.failCause(cause)),
        Effect.raceFirst(databaseAway(room)),
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () => Effect.fail(new RoomUnavailable({ room, message: `room ${room} did not answer within ${Duration.format(timeout)}` }))
        }),
        Effect.mapError((e) =>
          isDomainFailure(e)
            ? e
            : new RoomUnavailable({ room, message: `room ${room} is unavailable: ${String((e as { _tag?: string })._tag ?? e)}` })
        ),
        // A room that failed unexpectedly is unavailable, not a client error.
        Effect.catchDefect((defect) =>
          Effect.logError("Room failed").pipe(
            Effect.annotateLogs({ room_id: room, cause: String(defect) }),
            Effect.andThen(Effect.fail(new RoomUnavailable({ room, message: `room ${room} is unavailable` })))
          ))
      ) as Effect.Effect<A, Extract<E, RoomNotFound | NoGatewayAvailable | DatabaseUnavailable> | RoomUnavailable>

    return {
      requestServer: (room, country) =>
        guard(room, client(room).RequestServer({ country })),
      changeSession: (room, change, session, gateway) =>
        guard(room, client(room).ChangeSession({ change, session, gateway })),
      syncSessions: (room) => guard(room, client(room).SyncSessions(undefined)),
      gatewayDown: (room, gateway) => guard(room, client(room).GatewayDown({ gateway })),
      releaseAssignment: (room) => guard(room, client(room).ReleaseAssignment(undefined)),
      reassign: (room, gateway) => guard(room, client(room).Reassign({ gateway })),
      status: (room) => guard(room, client(room).GetStatus(undefined)),
      reload: (room) => guard(room, client(room).Reload(undefined)),
      wake: (room) => client(room).Wake(undefined, { discard: true }).pipe(Effect.ignore)
    } satisfies Rooms["Service"]
  })
