// Rooms created by their users (seed 003) live only as long as they are
// used: one empty for MEETING_ROOM_TTL is removed with its history. One
// sweep runs in the whole deployment (a cluster singleton).
import { Clock, Duration, Effect } from "effect"
import { Singleton } from "effect/cluster"
import { AppConfig } from "../config.ts"
import { repeatedSweep } from "../db/databaseOutage.ts"
import { untraced } from "../tracing.ts"
import { RoomCatalog } from "./catalog.ts"

/** Removes the meeting rooms empty for MEETING_ROOM_TTL; answers how many. */
export const sweepMeetingRooms = Effect.gen(function*() {
  const config = yield* AppConfig
  const catalog = yield* RoomCatalog
  const now = yield* Clock.currentTimeMillis
  // one statement finds and removes them (not traced: what it removed is logged)
  const removed = yield* untraced(catalog.removeIdleMeetings(new Date(now - config.meetingRoomTtl)))
  if (removed.length > 0) {
    yield* Effect.logInfo("Removed empty meeting rooms").pipe(
      Effect.annotateLogs({ rooms: removed.length, room_ids: removed.slice(0, 20).join(",") })
    )
  }
  return removed.length
})

/** A tenth of the TTL, between 1 s and 5 min: a room goes at most that late. */
export const meetingSweepInterval = (ttl: number) => Duration.millis(Math.min(Math.max(ttl / 10, 1_000), 300_000))

export const MeetingRoomSweep = Singleton.make("room-orchestrator/MeetingRoomSweep", Effect.gen(function*() {
  const config = yield* AppConfig
  yield* repeatedSweep("Meeting room sweep", sweepMeetingRooms, meetingSweepInterval(config.meetingRoomTtl))
}))
