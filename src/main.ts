// Entry point: decode the settings before loading anything heavy (a bad
// value stops start-up at once), then run until SIGTERM/SIGINT.
import { Result } from "effect"
import { decodeSettings } from "./config.ts"

const decoded = decodeSettings(process.env)
if (Result.isFailure(decoded)) {
  console.error(decoded.failure.message)
  process.exit(2)
}
const { run } = await import("./service.ts")
run(decoded.success)
