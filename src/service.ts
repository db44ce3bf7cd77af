// Runs the service with its logs; SIGTERM/SIGINT stop it gracefully (stop
// accepting, finish in-flight requests, close the database) and exit 0.
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Duration, Effect, Exit, Layer } from "effect"
import { serviceLayer } from "./app.ts"
import type { Settings } from "./config.ts"
import { loggingLayer } from "./logging.ts"

export const run = (settings: Settings, options: { readonly stopWithParent?: boolean } = {}) => {
  exitDeadline()
  return Effect.logInfo("Starting room-orchestrator").pipe(
    Effect.annotateLogs({ mode: settings.scale ? "scale" : "legacy", listen: `${settings.listen.host}:${settings.listen.port}` }),
    Effect.andThen(Layer.launch(serviceLayer(settings))),
    (service) => options.stopWithParent ? Effect.raceFirst(service, parentGone(process.ppid)) : service,
    Effect.onInterrupt(() => Effect.logInfo("Stopped")),
    Effect.tapCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError(messageOf(cause))),
    Effect.provide(loggingLayer(settings.logFormat, settings.logLevel)),
    (program) => NodeRuntime.runMain(program, { disableErrorReporting: true, teardown })
  )
}

/**
 * A stop that hangs (a dependency that never answers while it closes) must
 * not leave a process that serves nothing and holds its port: once signalled,
 * the process exits at the latest this long after, whatever is still open.
 */
export const stopDeadline = Duration.seconds(20)

const exitDeadline = () => {
  const arm = (signal: string) => () => {
    setTimeout(() => {
      console.error(`Did not stop within ${Duration.format(stopDeadline)} of ${signal}; exiting`)
      process.exit(1)
    }, Duration.toMillis(stopDeadline)).unref()
  }
  process.once("SIGTERM", arm("SIGTERM"))
  process.once("SIGINT", arm("SIGINT"))
}

const parentCheck = Duration.seconds(1)

// npm passes SIGTERM/SIGINT on to the service and waits for it, but a parent
// killed outright (SIGKILL, SIGHUP) cannot: the service then stops as if
// signalled instead of serving on as an orphan nobody supervises.
const parentGone = (parent: number) =>
  Effect.gen(function*() {
    while (process.ppid === parent) yield* Effect.sleep(parentCheck)
    yield* Effect.logWarning("Parent process exited; stopping").pipe(Effect.annotateLogs({ parent }))
    return yield* Effect.interrupt
  })

/** One line for an operator: the error's own message, not a stack. */
export const messageOf = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  return typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
}

// A signal is a normal stop (0); anything else that ends the service is a failure (1).
const teardown = <E, A>(exit: Exit.Exit<A, E>, onExit: (code: number) => void) =>
  onExit(Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) ? 0 : 1)
