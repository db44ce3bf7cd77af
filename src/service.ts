// Runs the service with its logs; SIGTERM/SIGINT stop it gracefully (stop
// accepting, finish in-flight requests, close the database) and exit 0.
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit, Layer } from "effect"
import { serviceLayer } from "./app.ts"
import type { Settings } from "./config.ts"
import { loggingLayer } from "./logging.ts"

export const run = (settings: Settings) =>
  Effect.logInfo("Starting room-orchestrator").pipe(
    Effect.annotateLogs({ mode: settings.scale ? "scale" : "legacy", listen: `${settings.listen.host}:${settings.listen.port}` }),
    Effect.andThen(Layer.launch(serviceLayer(settings))),
    Effect.onInterrupt(() => Effect.logInfo("Stopped")),
    Effect.tapCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError(messageOf(cause))),
    Effect.provide(loggingLayer(settings.logFormat, settings.logLevel)),
    (program) => NodeRuntime.runMain(program, { disableErrorReporting: true, teardown })
  )

/** One line for an operator: the error's own message, not a stack. */
export const messageOf = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  return typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
}

// A signal is a normal stop (0); anything else that ends the service is a failure (1).
const teardown = <E, A>(exit: Exit.Exit<A, E>, onExit: (code: number) => void) =>
  onExit(Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) ? 0 : 1)
