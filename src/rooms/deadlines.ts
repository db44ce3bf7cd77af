// The deadline sweep: wakes every room whose stored timer is due. Rooms
// normally fire their own timers; this covers a room that was passivated,
// moved to another process, or whose process restarted (a deadline that
// passed while the service was down fires on the first sweep). One sweep
// runs in the whole deployment (a cluster singleton). Only a sweep that
// finds due rooms is traced.
import { Clock, Duration, Effect } from "effect"
import { Singleton } from "effect/cluster"
import { RoomStore } from "../db/roomStore.ts"
import { repeatedSweep } from "../db/databaseOutage.ts"
import { sweepAction, untraced } from "../tracing.ts"
import { Rooms } from "./roomClient.ts"

export const sweepInterval = Duration.seconds(1)

export const wakeDueRooms = Effect.gen(function*() {
  const store = yield* RoomStore
  const rooms = yield* Rooms
  const due = yield* untraced(store.dueRooms(new Date(yield* Clock.currentTimeMillis)))
  if (due.length > 0) yield* Effect.forEach(due, rooms.wake, { discard: true }).pipe(sweepAction("DeadlineSweep.wake", { rooms: due.length }))
  return due.length
})

export const DeadlineSweep = Singleton.make("room-orchestrator/DeadlineSweep", repeatedSweep("Deadline sweep", wakeDueRooms, sweepInterval))
