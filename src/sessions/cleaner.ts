// The dead-session cleaner: every CLEAN_SESSIONS_INTERVAL, sessions without a
// keepalive for DEAD_SESSION_PERIOD are closed and their rooms told. With
// several processes the sweeps take turns (the store holds a lock).
import { Duration, Effect, Layer, Schedule } from "effect"
import { Config } from "../config.ts"
import { Sessions } from "./sessions.ts"

export const sweepDeadSessions = Effect.gen(function*() {
  const config = yield* Config
  const sessions = yield* Sessions
  const result = yield* sessions.closeDead(new Date(Date.now() - config.deadSessionPeriod))
  if (result !== undefined && result.sessions > 0) {
    yield* Effect.logInfo("Cleaned dead sessions").pipe(Effect.annotateLogs({ sessions: result.sessions }))
    yield* Effect.logInfo("Cleaned inactive room server assignments").pipe(
      Effect.annotateLogs({ cleaned_assignments: result.emptied })
    )
  }
  return result
})

export const SessionCleaner = Layer.effectDiscard(Effect.gen(function*() {
  const config = yield* Config
  const interval = Duration.millis(config.cleanSessionsInterval)
  // The first sweep waits one interval: after a restart clients need a
  // chance to send the keepalives the service could not receive while down.
  yield* Effect.sleep(interval).pipe(
    Effect.andThen(sweepDeadSessions.pipe(
      Effect.catchCause((cause) => Effect.logWarning("Session sweep failed", cause)),
      Effect.repeat(Schedule.spaced(interval))
    )),
    Effect.forkScoped
  )
}))
