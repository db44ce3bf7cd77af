// Every environment variable of the service, decoded with Schema in one place.
// A bad value stops start-up with one line naming the variable and the form
// it expects; nothing downstream ever sees an unchecked setting.
import { Context, Effect, Layer, Result, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { formatGoDuration, parseGoDuration } from "./duration.ts"

export type BalanceStrategy = "least-loaded" | "sequential"
export type LogFormat = "logfmt" | "json"
export type LogLevelName = "debug" | "info" | "warn" | "error"

export interface RegionPool {
  readonly country: string
  readonly gateways: ReadonlyArray<string>
}

export interface Settings {
  readonly listen: { readonly host: string; readonly port: number }
  readonly databaseUrl: string | undefined
  readonly dataDir: string
  readonly seed: "demo" | "none"
  readonly mqttUrl: string | undefined
  readonly mqttUsername: string | undefined
  readonly mqttPassword: string | undefined
  readonly mqttClientId: string | undefined
  readonly scale: boolean
  readonly availableJanusServers: ReadonlyArray<string>
  readonly maxServerCapacity: number
  readonly avgRoomOccupancy: number
  readonly serverRegions: ReadonlyArray<RegionPool>
  readonly serverRooms: ReadonlyMap<number, string>
  readonly balanceStrategy: BalanceStrategy
  readonly cleanSessionsInterval: number
  readonly deadSessionPeriod: number
  readonly drainGrace: number
  readonly assignmentTtl: number
  readonly failoverWaitTime: number
  readonly logFormat: LogFormat
  readonly logLevel: LogLevelName
}

/** A setting that cannot be used; `message` is the one line shown to the operator. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  variable: Schema.String,
  message: Schema.String
}) {}

// ---------------------------------------------------------------------------
// Text forms. Each parser answers the value or a reason; the reason is shown
// after the variable's expected form.

type Parse<T> = (text: string) => T | { readonly reason: string }
const isReason = (u: unknown): u is { readonly reason: string } =>
  typeof u === "object" && u !== null && "reason" in u && Object.keys(u).length === 1

/** A Schema from the variable's text to its value, failing with `reason`. */
const textSchema = <T>(parse: Parse<T>) =>
  Schema.String.pipe(Schema.decodeTo(
    Schema.Any as Schema.Codec<T>,
    SchemaTransformation.transformEffect<T, string>({
      decode: (text) => {
        const value = parse(text.trim())
        return isReason(value)
          ? Effect.fail(new SchemaIssue.InvalidValue({ message: value.reason }))
          : Effect.succeed(value)
      },
      encode: (value) => Effect.succeed(String(value))
    })
  ))

const integer = (min: number): Parse<number> => (text) => {
  if (!/^[+-]?\d+$/.test(text)) return { reason: "not an integer" }
  const n = Number(text)
  if (!Number.isSafeInteger(n)) return { reason: "too large" }
  return n >= min ? n : { reason: `must be at least ${min}` }
}

const duration = (min: number): Parse<number> => (text) => {
  const ms = parseGoDuration(text)
  if (ms === undefined) return { reason: "not a duration" }
  return ms >= min ? ms : { reason: `must be at least ${formatGoDuration(min)}` }
}

const oneOf = <const L extends string>(...values: ReadonlyArray<L>): Parse<L> => (text) => {
  const lower = text.toLowerCase()
  return values.find((v) => v === lower) ?? { reason: `unknown value` }
}

const boolean: Parse<boolean> = (text) => {
  const lower = text.toLowerCase()
  if (["true", "1", "yes", "on"].includes(lower)) return true
  if (["false", "0", "no", "off", ""].includes(lower)) return false
  return { reason: "not a boolean" }
}

const gatewayName = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$/
const countryCode = /^[A-Za-z]{2}$/

const gatewayList = (text: string, what: string): ReadonlyArray<string> | { reason: string } => {
  const names = text.split(",").map((s) => s.trim())
  const bad = names.find((n) => !gatewayName.test(n))
  if (bad !== undefined) return { reason: `${what} has an invalid gateway name ${JSON.stringify(bad)}` }
  if (new Set(names).size !== names.length) return { reason: `${what} lists a gateway twice` }
  return names
}

const serverList: Parse<ReadonlyArray<string>> = (text) =>
  text === "" ? { reason: "empty" } : gatewayList(text, "the list")

const listenAddress: Parse<{ host: string; port: number }> = (text) => {
  const m = /^(.*):(\d{1,5})$/.exec(text)
  if (!m) return { reason: "missing port" }
  const port = Number(m[2])
  if (port > 65535) return { reason: "port out of range" }
  const host = m[1]!.replace(/^\[(.*)\]$/, "$1")
  return { host: host === "" ? "0.0.0.0" : host, port }
}

const postgresUrl: Parse<string> = (text) => {
  if (!URL.canParse(text)) return { reason: "not a URL" }
  const url = new URL(text)
  return url.protocol === "postgres:" || url.protocol === "postgresql:" ? text : { reason: "not a postgres:// URL" }
}

const mqttUrl: Parse<string> = (text) => {
  if (!URL.canParse(text)) return { reason: "not a URL" }
  const protocol = new URL(text).protocol
  return ["mqtt:", "mqtts:", "tcp:", "tls:", "ws:", "wss:"].includes(protocol) ? text : { reason: "unsupported scheme" }
}

const segments = (text: string) => text.split(";").map((s) => s.trim()).filter((s) => s !== "")

const serverRegions: Parse<ReadonlyArray<RegionPool>> = (text) => {
  const pools: Array<RegionPool> = []
  for (const segment of segments(text)) {
    const [country, list, extra] = segment.split(":").map((s) => s.trim())
    if (list === undefined || extra !== undefined) return { reason: `segment ${JSON.stringify(segment)} is not COUNTRY:gateways` }
    if (!countryCode.test(country!)) return { reason: `${JSON.stringify(country)} is not a two-letter country code` }
    const upper = country!.toUpperCase()
    if (pools.some((p) => p.country === upper)) return { reason: `country ${upper} appears twice` }
    const gateways = gatewayList(list, `region ${upper}`)
    if (isReason(gateways)) return gateways
    pools.push({ country: upper, gateways })
  }
  return pools
}

const serverRooms: Parse<ReadonlyMap<number, string>> = (text) => {
  const pinned = new Map<number, string>()
  for (const segment of segments(text)) {
    const [rooms, gateway, extra] = segment.split(":").map((s) => s.trim())
    if (gateway === undefined || extra !== undefined) return { reason: `segment ${JSON.stringify(segment)} is not rooms:gateway` }
    if (!gatewayName.test(gateway)) return { reason: `invalid gateway name ${JSON.stringify(gateway)}` }
    for (const room of rooms!.split(",").map((s) => s.trim())) {
      const n = integer(1)(room)
      if (isReason(n)) return { reason: `${JSON.stringify(room)} is not a room number` }
      if (pinned.has(n)) return { reason: `room ${n} is pinned twice` }
      pinned.set(n, gateway)
    }
  }
  return pinned
}

// ---------------------------------------------------------------------------
// The variables: name (then aliases), default, expected form, parser.

interface Variable<T> {
  readonly names: readonly [string, ...Array<string>]
  readonly fallback: string
  readonly expected: string
  readonly schema: Schema.Codec<T, string>
  /** May hold credentials: never echoed back. */
  readonly secret: boolean
}
const variable = <T>(names: Variable<T>["names"], fallback: string, expected: string, parse: Parse<T>, secret = false): Variable<T> => ({
  names,
  fallback,
  expected,
  schema: textSchema(parse),
  secret
})

export const defaultJanusServers = Array.from({ length: 12 }, (_, i) => `gxy${i + 1}`).join(",")

const variables = {
  listen: variable(["LISTEN_ADDRESS"], "127.0.0.1:8081", "host:port, e.g. 127.0.0.1:8081 or :8081", listenAddress),
  databaseUrl: variable(["DATABASE_URL", "DB_URL"], "", "postgres://user:password@host:port/database", postgresUrl, true),
  dataDir: variable(["DATA_DIR"], "./data", "a directory path", (t) => (t === "" ? { reason: "empty" } : t)),
  seed: variable(["SEED"], "demo", "demo or none", oneOf("demo", "none")),
  mqttUrl: variable(["MQTT_URL", "MQTT_BROKER_URL"], "", "mqtt://host:port (or mqtts://, ws://, wss://)", mqttUrl, true),
  mqttUsername: variable(["MQTT_USERNAME", "MQTT_USER"], "", "a user name", (t) => t),
  mqttPassword: variable(["MQTT_PASSWORD", "MQTT_PASS"], "", "a password", (t) => t, true),
  mqttClientId: variable(["MQTT_CLIENT_ID"], "", "a client id of at most 23 characters", (t) =>
    t.length <= 23 ? t : { reason: "too long" }),
  scale: variable(["SCALE"], "false", "true or false", boolean),
  availableJanusServers: variable(["AVAILABLE_JANUS_SERVERS"], defaultJanusServers, "comma-separated gateway names, e.g. gxy1,gxy2", serverList),
  maxServerCapacity: variable(["MAX_SERVER_CAPACITY"], "400", "an integer ≥ 1 (users per gateway)", integer(1)),
  avgRoomOccupancy: variable(["AVG_ROOM_OCCUPANCY"], "10", "an integer ≥ 1 (users per room)", integer(1)),
  serverRegions: variable(["SERVER_REGIONS"], "", "COUNTRY:gw,gw;COUNTRY:gw, e.g. IL:gxy1,gxy2;US:gxy4", serverRegions),
  serverRooms: variable(["SERVER_ROOMS"], "", "room,room:gw;room:gw, e.g. 2171,2172:gxy5;3000:gxy6", serverRooms),
  balanceStrategy: variable(["BALANCE_STRATEGY"], "least-loaded", "least-loaded or sequential", oneOf("least-loaded", "sequential")),
  cleanSessionsInterval: variable(["CLEAN_SESSIONS_INTERVAL"], "1m", "a duration ≥ 100ms, e.g. 1m", duration(100)),
  deadSessionPeriod: variable(["DEAD_SESSION_PERIOD"], "90s", "a duration ≥ 1s, e.g. 90s", duration(1_000)),
  drainGrace: variable(["DRAIN_GRACE"], "30s", "a duration, e.g. 30s", duration(0)),
  assignmentTtl: variable(["ASSIGNMENT_TTL"], "2m", "a duration ≥ 1s, e.g. 2m", duration(1_000)),
  failoverWaitTime: variable(["FAILOVER_WAIT_TIME"], "5s", "a duration, e.g. 5s", duration(0)),
  logFormat: variable(["LOG_FORMAT"], "logfmt", "logfmt or json", oneOf("logfmt", "json")),
  logLevel: variable(["LOG_LEVEL"], "info", "debug, info, warn or error", oneOf("debug", "info", "warn", "error"))
} satisfies { [K in keyof Settings]: Variable<unknown> }

/** The variables with their defaults and forms, for the README and `--help`. */
export const describeVariables = (): ReadonlyArray<{ name: string; fallback: string; expected: string }> =>
  Object.values(variables).map((v) => ({ name: v.names.join(" / "), fallback: v.fallback, expected: v.expected }))

const decodeVariable = <T>(v: Variable<T>, env: Readonly<Record<string, string | undefined>>): Result.Result<T, ConfigError> => {
  const name = v.names.find((n) => env[n] !== undefined) ?? v.names[0]
  const text = env[name] ?? v.fallback
  const optional = v.fallback === "" && text.trim() === ""
  if (optional) return Result.succeed(undefined as T)
  const decoded = Schema.decodeUnknownResult(v.schema)(text)
  return Result.mapError(decoded, (issue) =>
    new ConfigError({
      variable: name,
      message: `Invalid ${name}=${v.secret ? "(hidden)" : JSON.stringify(text)}: ${issue.message}; expected ${v.expected}`
    }))
}

/** Decodes the whole environment, or the first variable that is wrong. */
export const decodeSettings = (env: Readonly<Record<string, string | undefined>>): Result.Result<Settings, ConfigError> => {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(variables)) {
    const decoded = decodeVariable(v as Variable<unknown>, env)
    if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
    out[key] = decoded.success
  }
  const settings = {
    ...out,
    serverRegions: out.serverRegions ?? [],
    serverRooms: out.serverRooms ?? new Map()
  } as Settings
  return crossCheck(settings)
}

// Regions and pinned rooms may only name gateways the balancer may use: a
// typo there would silently send a region's users elsewhere.
const crossCheck = (settings: Settings): Result.Result<Settings, ConfigError> => {
  const known = new Set(settings.availableJanusServers)
  for (const pool of settings.serverRegions) {
    const unknown = pool.gateways.find((g) => !known.has(g))
    if (unknown !== undefined) {
      return Result.fail(new ConfigError({
        variable: "SERVER_REGIONS",
        message: `Invalid SERVER_REGIONS: region ${pool.country} names ${unknown}, which is not in AVAILABLE_JANUS_SERVERS`
      }))
    }
  }
  for (const [room, gateway] of settings.serverRooms) {
    if (!known.has(gateway)) {
      return Result.fail(new ConfigError({
        variable: "SERVER_ROOMS",
        message: `Invalid SERVER_ROOMS: room ${room} is pinned to ${gateway}, which is not in AVAILABLE_JANUS_SERVERS`
      }))
    }
  }
  return Result.succeed(settings)
}

/** The decoded settings, as a service. */
export class Config extends Context.Service<Config, Settings>()("room-orchestrator/Config") {
  static readonly layerFrom = (env: Readonly<Record<string, string | undefined>>) =>
    Layer.effect(Config, Effect.fromResult(decodeSettings(env)))

  static readonly layer = (settings: Settings) => Layer.succeed(Config, settings)
}
