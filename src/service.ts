// Runs the service with its logs; SIGTERM/SIGINT stop it gracefully (stop
// accepting, finish in-flight requests, close the database) and exit 0.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Duration, Effect, Exit, Layer } from "effect"
import { serviceLayer } from "./app.ts"
import type { Settings } from "./config.ts"
import { signalReceived, stopRequested } from "./stopSignal.ts"
import { loggingLayer } from "./logging.ts"

export const run = (settings: Settings, options: { readonly stopWithParent?: boolean } = {}) =>
  Effect.logInfo("Starting room-orchestrator").pipe(
    Effect.annotateLogs({ mode: settings.scale ? "scale" : "legacy", listen: `${settings.listen.host}:${settings.listen.port}` }),
    Effect.andThen(Layer.launch(serviceLayer(settings))),
    // also a signal that came while the modules loaded, before any of this ran
    Effect.raceFirst(signalled),
    (service) => options.stopWithParent ? Effect.raceFirst(service, parentGone(process.ppid)) : service,
    Effect.onInterrupt(() => Effect.logInfo("Stopped")),
    Effect.tapCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError(messageOf(cause))),
    Effect.provide(loggingLayer(settings.logFormat, settings.logLevel)),
    (program) => NodeRuntime.runMain(program, { disableErrorReporting: true, teardown })
  )

const signalled = Effect.promise(stopRequested).pipe(
  Effect.flatMap((signal) => Effect.logInfo("Stopping").pipe(Effect.annotateLogs({ signal }))),
  Effect.andThen(Effect.interrupt)
)

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

// A signal is a normal stop (0); anything else that ends the service is a
// failure (1). The process exits then, even when the signal came before the
// runtime listened for it (it would otherwise wait for every timer and
// socket a library left behind).
const teardown = <E, A>(exit: Exit.Exit<A, E>, onExit: (code: number) => void) => {
  const code = Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) ? 0 : 1
  if (signalReceived() !== undefined) process.exit(code)
  onExit(code)
}
