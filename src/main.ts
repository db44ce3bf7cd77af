// Entry point: decode the settings, then run the service until SIGTERM/SIGINT.
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Result } from "effect"
import { serviceLayer } from "./app.ts"
import { decodeSettings } from "./config.ts"
import { loggingLayer } from "./logging.ts"

const decoded = decodeSettings(process.env)
if (Result.isFailure(decoded)) {
  console.error(decoded.failure.message)
  process.exit(2)
}
const settings = decoded.success

Layer.launch(serviceLayer(settings)).pipe(
  Effect.catchTags({
    DatabaseUnreachable: (e) => Effect.andThen(Effect.logError(e.message), Effect.sync(() => process.exit(1)))
  }),
  Effect.provide(loggingLayer(settings.logFormat, settings.logLevel)),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
