// The dead-session cleaner: every CLEAN_SESSIONS_INTERVAL, sessions without a
// keepalive for DEAD_SESSION_PERIOD are closed and their rooms told; then
// every room that counts other sessions than the sessions table holds (a
// join or leave it never heard of) recounts them. One cleaner runs in the
// whole deployment (a cluster singleton; the store also holds a lock). A
// sweep that finds nothing to do is not traced.
import { Clock, Duration, Effect } from "effect"
import { Singleton } from "effect/cluster"
import { AppConfig } from "../config.ts"
import { repeatedSweep } from "../db/databaseOutage.ts"
import { RoomStore } from "../db/roomStore.ts"
import { countCleanedSessions } from "../metrics/events.ts"
import { Rooms } from "../rooms/roomClient.ts"
import { sweepAction, untraced } from "../tracing.ts"
import { Sessions } from "./sessions.ts"

export const sweepDeadSessions = Effect.gen(function*() {
  const config = yield* AppConfig
  const sessions = yield* Sessions
  const now = yield* Clock.currentTimeMillis
  // one statement finds and closes them; the rooms it tells trace their own steps
  const result = yield* untraced(sessions.closeDead(new Date(now - config.deadSessionPeriod)))
  if (result === undefined) return undefined
  if (result.sessions > 0) {
    yield* countCleanedSessions(result.sessions)
    yield* Effect.logInfo("Cleaned dead sessions").pipe(Effect.annotateLogs({ sessions: result.sessions, untold: result.untold }))
    yield* Effect.logInfo("Cleaned inactive room server assignments").pipe(
      Effect.annotateLogs({ cleaned_assignments: result.emptied })
    )
  }
  const recounted = config.scale ? yield* recountRooms : 0
  return { ...result, recounted }
})

/** Rooms whose count differs from the sessions table read their sessions again. */
export const recountRooms = Effect.gen(function*() {
  const store = yield* RoomStore
  const rooms = yield* Rooms
  const miscounted = yield* untraced(store.miscounted)
  if (miscounted.length === 0) return 0
  return yield* Effect.gen(function*() {
    const done = yield* Effect.forEach(miscounted, (room) => Effect.result(rooms.syncSessions(room)), { concurrency: 16 })
    const repaired = done.filter((d) => d._tag === "Success").length
    yield* Effect.logInfo("Recounted room sessions").pipe(Effect.annotateLogs({ rooms: repaired, failed: miscounted.length - repaired }))
    return repaired
  }).pipe(sweepAction("SessionCleaner.recount", { rooms: miscounted.length }))
})

export const SessionCleaner = Singleton.make("room-orchestrator/SessionCleaner", Effect.gen(function*() {
  const config = yield* AppConfig
  const interval = Duration.millis(config.cleanSessionsInterval)
  // The first sweep waits one interval: after a restart clients need a
  // chance to send the keepalives the service could not receive while down.
  yield* Effect.sleep(interval)
  yield* repeatedSweep("Session sweep", sweepDeadSessions, interval)
}))
