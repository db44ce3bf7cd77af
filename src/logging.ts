// Structured logs: logfmt or JSON lines on stdout, filtered by LOG_LEVEL.
// A JSON line is one flat object: `timestamp`, `level`, `message`, `cause`
// when there is one, and every annotation beside them at the top level, with
// its own JSON type (a number stays a number), as log pipelines index them.
import { Cause, Layer, Logger, References } from "effect"
import type { LogFormat, LogLevelName } from "./config.ts"

const levels = { debug: "Debug", info: "Info", warn: "Warn", error: "Error" } as const

/**
 * When another process of the deployment stops or is killed, the cluster's
 * socket server reports the cut connection as an unhandled error with a
 * stack trace. It is expected (the others take its rooms over): one warning
 * line says what happened instead.
 */
const isPeerCut = (o: Logger.Options<unknown>) => {
  const first = Array.isArray(o.message) ? o.message[0] : o.message
  if (first !== "Unhandled error in SocketServer") return false
  const error = Cause.squash(o.cause) as { _tag?: string; reason?: { _tag?: string } } | undefined
  return error?._tag === "SocketError" || String(error).includes("SocketError")
}

const quietPeerCuts = <Output>(logger: Logger.Logger<unknown, Output>) =>
  Logger.make((o: Logger.Options<unknown>) =>
    logger.log(
      isPeerCut(o)
        ? { ...o, logLevel: "Warn", message: ["Connection from another process of the deployment was cut"], cause: Cause.empty }
        : o
    ))

const reserved = new Set(["timestamp", "level", "message", "cause"])

const text = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(jsonValue(value)) ?? String(value))

/** A value as JSON carries it: numbers, booleans, strings and null as they are; the rest made plain. */
export const jsonValue = (value: unknown): unknown => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value)
  if (typeof value === "bigint") return value.toString()
  if (value === undefined || typeof value === "function" || typeof value === "symbol") return undefined
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Error) return value.message
  if (Array.isArray(value)) return value.map(jsonValue)
  const json = (value as { toJSON?: () => unknown }).toJSON
  if (typeof json === "function") return jsonValue(json.call(value))
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]))
}

/** One log entry as a flat JSON object. */
export const formatFlatJson = Logger.make(({ cause, date, fiber, logLevel, message }) => {
  const parts = Array.isArray(message) ? message : [message]
  const line: Record<string, unknown> = {
    timestamp: date.toISOString(),
    level: logLevel.toUpperCase(),
    message: parts.map(text).join(" ")
  }
  if (cause.reasons.length > 0) line.cause = Cause.pretty(cause)
  for (const [key, value] of Object.entries(fiber.getRef(References.CurrentLogAnnotations))) {
    const v = jsonValue(value)
    if (v !== undefined) line[reserved.has(key) ? `annotation_${key}` : key] = v
  }
  return JSON.stringify(line)
})

export const loggingLayer = (format: LogFormat, level: LogLevelName) =>
  Layer.mergeAll(
    Logger.layer([quietPeerCuts(format === "json" ? Logger.withConsoleLog(formatFlatJson) : Logger.consoleLogFmt)]),
    Layer.succeed(References.MinimumLogLevel, levels[level])
  )
