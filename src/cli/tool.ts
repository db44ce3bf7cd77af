// Shared start of the command-line tools: settings from the environment,
// logs as configured, one clear line and a non-zero exit on failure.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Result } from "effect"
import { AppConfig, settingsFromEnvironment } from "../config.ts"
import { type Database, databaseLayer } from "../db/database.ts"
import { loggingLayer } from "../logging.ts"
import { messageOf } from "../service.ts"

export const runTool = <A, E>(program: Effect.Effect<A, E, Layer.Success<typeof Database> | AppConfig>) => {
  const decoded = settingsFromEnvironment()
  if (Result.isFailure(decoded)) {
    console.error(decoded.failure.message)
    process.exit(2)
  }
  const settings = decoded.success
  program.pipe(
    // a tool fails at once on a database that does not answer, with one line
    Effect.provide(databaseLayer({ wait: false })),
    Effect.provide(AppConfig.layer(settings)),
    Effect.catchCause((cause) =>
      Effect.andThen(Effect.logError(messageOf(cause)), Effect.sync(() => process.exit(1)))),
    Effect.provide(loggingLayer(settings.logFormat, settings.logLevel)),
    NodeRuntime.runMain
  )
}
