// Structured logs: logfmt or JSON lines on stdout, filtered by LOG_LEVEL.
import { Layer, Logger, References } from "effect"
import type { LogFormat, LogLevelName } from "./config.ts"

const levels = { debug: "Debug", info: "Info", warn: "Warn", error: "Error" } as const

export const loggingLayer = (format: LogFormat, level: LogLevelName) =>
  Layer.mergeAll(
    Logger.layer([format === "json" ? Logger.consoleJson : Logger.consoleLogFmt]),
    Layer.succeed(References.MinimumLogLevel, levels[level])
  )
