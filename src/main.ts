// Entry point: decode the settings (the environment over ./.env) before
// loading anything heavy (a bad value, or an open service on a public
// address, stops start-up at once),
// then run until SIGTERM/SIGINT. `--stop-with-parent` (what `npm start`
// passes) also stops it when the process that started it dies.
import "./stopSignal.ts"
import { Result } from "effect"
import { checkExposure, settingsFromEnvironment } from "./config.ts"

const decoded = Result.flatMap(settingsFromEnvironment(), checkExposure)
if (Result.isFailure(decoded)) {
  console.error(decoded.failure.message)
  process.exit(2)
}
const { run } = await import("./service.ts")
run(decoded.success, { stopWithParent: process.argv.includes("--stop-with-parent") })
