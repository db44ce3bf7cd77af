// Every environment variable of the service, decoded with Schema in one place.
// A bad value stops start-up with one line naming the variable and the form
// it expects; nothing downstream ever sees an unchecked setting.
import { existsSync, readFileSync } from "node:fs"
import { parseEnv } from "node:util"
import { Context, Effect, Layer, Result, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { canonicalRoomId, type RoomId } from "./domain/room.ts"
import { formatGoDuration, parseGoDuration } from "./duration.ts"

export type BalanceStrategy = "least-loaded" | "sequential"

/** Classes of requests, each with its own bound on requests in progress (MAX_IN_FLIGHT). */
export const admissionClasses = ["rooms", "sessions", "reads", "admin", "other"] as const
export type AdmissionClass = typeof admissionClasses[number]
export type LogFormat = "logfmt" | "json"
export type LogLevelName = "debug" | "info" | "warn" | "error"

export interface RegionPool {
  readonly country: string
  readonly gateways: ReadonlyArray<string>
}

export interface Settings {
  readonly listen: { readonly host: string; readonly port: number }
  readonly requestTimeout: number
  /** A request's headers must arrive within this long; a connection silent that long is closed. */
  readonly headersTimeout: number
  /** A kept-alive connection idle this long is closed. */
  readonly keepAliveTimeout: number
  /** Open connections one process takes; beyond, new ones are refused at once. Undefined: from the open-files limit. */
  readonly maxConnections: number | undefined
  /** Failed logins one source address may make per minute; beyond, 429 without checking the password. */
  readonly loginFailuresPerMinute: number
  /** Requests one process works on at once, per class; beyond, 503 at once. */
  readonly maxInFlight: Readonly<Record<AdmissionClass, number>>
  /** Keepalives of live sessions arriving within this window are written by one statement. */
  readonly keepaliveBatchWindow: number
  /** Live sessions one user id may hold; a new one beyond closes the oldest. */
  readonly maxSessionsPerUser: number
  /** A real-time connection that has not shown a token this long after connecting is closed. */
  readonly realtimeAuthTimeout: number
  /** Events one real-time connection may send per second (twice that in a burst). */
  readonly realtimeEventsPerSecond: number
  /** Events of one real-time connection waiting to be handled; beyond, refused. */
  readonly realtimeQueue: number
  /** The largest MQTT message handled, in bytes. */
  readonly mqttMaxMessage: number
  /** The most Janus events one MQTT message may carry. */
  readonly mqttMaxBatch: number
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
  readonly serverRooms: ReadonlyMap<RoomId, string>
  readonly balanceStrategy: BalanceStrategy
  readonly cleanSessionsInterval: number
  readonly deadSessionPeriod: number
  readonly drainGrace: number
  readonly assignmentTtl: number
  /** How long a room's actor stays in memory after its last message; its timers then fire from storage. */
  readonly roomResidency: number
  readonly failoverWaitTime: number
  readonly roomIdsAsStrings: boolean
  /** How long a room created through /api/rooms/create may stay empty before it is removed, with its history. */
  readonly meetingRoomTtl: number
  /** Origins browsers may call from; `*` for any. */
  readonly corsOrigins: ReadonlyArray<string>
  readonly logFormat: LogFormat
  readonly logLevel: LogLevelName
  /** `none`: authentication turned off on purpose (AUTH=none). */
  readonly auth: "none" | undefined
  readonly authIssuer: string | undefined
  readonly authJwksUrl: string | undefined
  readonly authAudience: string | undefined
  readonly authJwtSecret: string | undefined
  readonly authJwksCooldown: number
  readonly servicePassword: string | undefined
  readonly metricsAuth: boolean
  /** Set: this process is one runner of a cluster (several processes on one Postgres). */
  readonly clusterRunnerAddress: RunnerAddressSetting | undefined
  readonly clusterListenAddress: { readonly host: string; readonly port: number } | undefined
  /** `trusted`: the runner port may listen beyond loopback (a private network the operator vouches for). */
  readonly clusterNetwork: "trusted" | undefined
  readonly clusterShards: number
  readonly clusterLockExpiration: number
  readonly clusterLockRefresh: number
  readonly clusterHealthCheckInterval: number
  /** How real-time broadcasts reach other processes: `memory` (one process) or `postgres` (LISTEN/NOTIFY). */
  readonly realtimeAdapter: "memory" | "postgres"
  /** One log line per HTTP request (method, route, status, duration, remote address). */
  readonly accessLog: boolean
  /** OTLP/HTTP collector base URL; traces are exported only when set. */
  readonly otelEndpoint: string | undefined
  readonly otelServiceName: string
  /** Resource attributes of every span (OpenTelemetry's `key=value,…`), e.g. service.instance.id, deployment.environment.name. */
  readonly otelResourceAttributes: ReadonlyArray<readonly [string, string]> | undefined
}

/** Where other processes reach this one's runner; `auto`: this machine's own (first non-loopback) address. */
export interface RunnerAddressSetting {
  readonly host: string | "auto"
  readonly port: number
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

const defaultInFlight: Readonly<Record<AdmissionClass, number>> = { rooms: 512, sessions: 1024, reads: 256, admin: 64, other: 256 }

/** `class:n,…` over the defaults, e.g. `rooms:1000,reads:100`. */
const inFlightBounds: Parse<Readonly<Record<AdmissionClass, number>>> = (text) => {
  const bounds: Record<AdmissionClass, number> = { ...defaultInFlight }
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const [name, value, extra] = part.split(":").map((p) => p.trim())
    if (!admissionClasses.includes(name as AdmissionClass) || value === undefined || extra !== undefined) {
      return { reason: `${JSON.stringify(part)} is not class:number (classes: ${admissionClasses.join(", ")})` }
    }
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n < 1) return { reason: `${name}: must be a whole number ≥ 1` }
    bounds[name as AdmissionClass] = n
  }
  return bounds
}

/** Bytes: a number, or with KiB / MiB. */
const size = (min: number): Parse<number> => (text) => {
  const m = /^(\d+)\s*(B|KiB|MiB)?$/i.exec(text)
  if (!m) return { reason: "not a size" }
  const unit = (m[2] ?? "B").toLowerCase()
  const n = Number(m[1]) * (unit === "mib" ? 1024 * 1024 : unit === "kib" ? 1024 : 1)
  if (!Number.isSafeInteger(n)) return { reason: "too large" }
  return n >= min ? n : { reason: `must be at least ${min} bytes` }
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

const runnerAddress: Parse<RunnerAddressSetting> = (text) => {
  const m = /^(.*):(\d{1,5})$/.exec(text)
  if (!m) return { reason: "missing port" }
  const port = Number(m[2])
  if (port < 1 || port > 65535) return { reason: "port out of range" }
  const host = m[1]!.replace(/^\[(.*)\]$/, "$1")
  if (host === "0.0.0.0" || host === "::") return { reason: "not an address other processes can dial (auto:PORT for this machine's own)" }
  // a port alone stays on this machine, as a bind should unless told otherwise
  return { host: host === "" ? "127.0.0.1" : host, port }
}

const httpUrl: Parse<string> = (text) => {
  if (!URL.canParse(text)) return { reason: "not a URL" }
  const protocol = new URL(text).protocol
  return protocol === "https:" || protocol === "http:" ? text : { reason: "not an http(s):// URL" }
}

// RFC 7518 §3.2: an HS256 key must be at least as long as the hash (256 bits).
const jwtSecret: Parse<string> = (text) =>
  new TextEncoder().encode(text).length >= 32 ? text : { reason: "shorter than 32 bytes" }

const postgresUrl: Parse<string> = (text) => {
  if (!URL.canParse(text)) return { reason: "not a URL" }
  const url = new URL(text)
  return url.protocol === "postgres:" || url.protocol === "postgresql:" ? text : { reason: "not a postgres:// URL" }
}

const percentDecodes = (text: string) => {
  try {
    decodeURIComponent(text)
    return true
  } catch {
    return false
  }
}

const mqttUrl: Parse<string> = (text) => {
  if (!URL.canParse(text)) return { reason: "not a URL" }
  const url = new URL(text)
  if (!["mqtt:", "mqtts:", "tcp:", "tls:", "ws:", "wss:"].includes(url.protocol)) return { reason: "unsupported scheme" }
  // Credentials in the URL are percent-encoded (`:` as %3A, `@` as %40).
  if (!percentDecodes(url.username) || !percentDecodes(url.password)) return { reason: "badly percent-encoded user name or password" }
  return text
}

const corsOrigins: Parse<ReadonlyArray<string>> = (text) => {
  const origins = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
  if (origins.length === 0) return { reason: "empty" }
  if (origins.includes("*")) return origins.length === 1 ? ["*"] : { reason: "* cannot be combined with other origins" }
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) return { reason: `${JSON.stringify(origin)} is not an origin like https://host[:port]` }
  }
  return origins
}

// OpenTelemetry's form: `key=value` pairs separated by commas, values percent-encoded.
const resourceAttributes: Parse<ReadonlyArray<readonly [string, string]>> = (text) => {
  const pairs: Array<readonly [string, string]> = []
  for (const item of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const at = item.indexOf("=")
    const key = item.slice(0, at).trim()
    if (at <= 0 || key === "") return { reason: `${JSON.stringify(item)} is not key=value` }
    const value = item.slice(at + 1).trim()
    if (!percentDecodes(value)) return { reason: `the value of ${key} is badly percent-encoded` }
    pairs.push([key, decodeURIComponent(value)])
  }
  return pairs
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

const serverRooms: Parse<ReadonlyMap<RoomId, string>> = (text) => {
  const pinned = new Map<RoomId, string>()
  for (const segment of segments(text)) {
    const [rooms, gateway, extra] = segment.split(":").map((s) => s.trim())
    if (gateway === undefined || extra !== undefined) return { reason: `segment ${JSON.stringify(segment)} is not rooms:gateway` }
    if (!gatewayName.test(gateway)) return { reason: `invalid gateway name ${JSON.stringify(gateway)}` }
    for (const room of rooms!.split(",").map((s) => s.trim())) {
      const id = canonicalRoomId(room)
      if (id === undefined) return { reason: `${JSON.stringify(room)} is not a room id` }
      if (pinned.has(id)) return { reason: `room ${id} is pinned twice` }
      pinned.set(id, gateway)
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
  requestTimeout: variable(["REQUEST_TIMEOUT"], "30s", "a duration ≥ 1s, e.g. 30s", duration(1_000)),
  headersTimeout: variable(["HEADERS_TIMEOUT"], "10s", "a duration ≥ 1s, e.g. 10s", duration(1_000)),
  keepAliveTimeout: variable(["KEEP_ALIVE_TIMEOUT"], "5s", "a duration ≥ 100ms, e.g. 5s", duration(100)),
  maxConnections: variable(["MAX_CONNECTIONS"], "", "an integer ≥ 16 (default: the open-files limit less 512)", integer(16)),
  loginFailuresPerMinute: variable(["LOGIN_FAILURES_PER_MINUTE"], "20", "an integer ≥ 1 (per source address)", integer(1)),
  maxSessionsPerUser: variable(["MAX_SESSIONS_PER_USER"], "8", "an integer ≥ 1", integer(1)),
  maxInFlight: variable(
    ["MAX_IN_FLIGHT"],
    "rooms:512,sessions:1024,reads:256,admin:64,other:256",
    "class:number pairs, e.g. rooms:512,sessions:1024 (classes: rooms, sessions, reads, admin, other)",
    inFlightBounds
  ),
  keepaliveBatchWindow: variable(["KEEPALIVE_BATCH_WINDOW"], "5ms", "a duration, e.g. 5ms (0: each keepalive at once)", duration(0)),
  realtimeAuthTimeout: variable(["REALTIME_AUTH_TIMEOUT"], "10s", "a duration ≥ 100ms, e.g. 10s", duration(100)),
  realtimeEventsPerSecond: variable(["REALTIME_EVENTS_PER_SECOND"], "20", "an integer ≥ 1", integer(1)),
  realtimeQueue: variable(["REALTIME_QUEUE"], "32", "an integer ≥ 1", integer(1)),
  mqttMaxMessage: variable(["MQTT_MAX_MESSAGE"], "1MiB", "a size, e.g. 1MiB or 65536", size(1_024)),
  mqttMaxBatch: variable(["MQTT_MAX_BATCH"], "1000", "an integer ≥ 1 (Janus events per message)", integer(1)),
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
  roomResidency: variable(["ROOM_RESIDENCY"], "30s", "a duration ≥ 1s, e.g. 30s", duration(1_000)),
  failoverWaitTime: variable(["FAILOVER_WAIT_TIME"], "5s", "a duration, e.g. 5s", duration(0)),
  roomIdsAsStrings: variable(["ROOM_IDS_AS_STRINGS"], "false", "true or false", boolean),
  meetingRoomTtl: variable(["MEETING_ROOM_TTL"], "24h", "a duration ≥ 1s, e.g. 24h", duration(1_000)),
  corsOrigins: variable(["CORS_ORIGINS"], "*", "* or comma-separated origins, e.g. https://galaxy.example.org", corsOrigins),
  logFormat: variable(["LOG_FORMAT"], "logfmt", "logfmt or json", oneOf("logfmt", "json")),
  logLevel: variable(["LOG_LEVEL"], "info", "debug, info, warn or error", oneOf("debug", "info", "warn", "error")),
  auth: variable(["AUTH"], "", "none (authentication off), or unset", oneOf("none")),
  authIssuer: variable(["AUTH_ISSUER"], "", "the identity provider's issuer URL, e.g. https://accounts.example.org/realms/main", httpUrl),
  authJwksUrl: variable(["AUTH_JWKS_URL"], "", "the URL of the issuer's JSON Web Key Set", httpUrl),
  authAudience: variable(["AUTH_AUDIENCE"], "", "the audience tokens must name (aud)", (t) => t),
  authJwtSecret: variable(["AUTH_JWT_SECRET"], "", "an HS256 secret of at least 32 bytes", jwtSecret, true),
  authJwksCooldown: variable(["AUTH_JWKS_COOLDOWN"], "30s", "a duration, e.g. 30s", duration(0)),
  servicePassword: variable(["SERVICE_PASSWORD"], "", "the password of the user `service`", (t) => t, true),
  metricsAuth: variable(["METRICS_AUTH"], "false", "true or false", boolean),
  clusterRunnerAddress: variable(
    ["CLUSTER_RUNNER_ADDRESS"],
    "",
    "host:port other processes reach this one at, auto:port for this machine's own address, or :port for loopback",
    runnerAddress
  ),
  clusterListenAddress: variable(["CLUSTER_LISTEN_ADDRESS"], "", "host:port the runner listens on, e.g. 0.0.0.0:34431", listenAddress),
  clusterNetwork: variable(["CLUSTER_NETWORK"], "", "trusted (the runner port may listen beyond loopback), or unset", oneOf("trusted")),
  clusterShards: variable(["CLUSTER_SHARDS"], "300", "an integer ≥ 1, the same on every process", integer(1)),
  clusterLockExpiration: variable(["CLUSTER_LOCK_EXPIRATION"], "5s", "a duration ≥ 1s, e.g. 5s", duration(1_000)),
  clusterLockRefresh: variable(["CLUSTER_LOCK_REFRESH"], "1s", "a duration ≥ 100ms, e.g. 1s", duration(100)),
  clusterHealthCheckInterval: variable(["CLUSTER_HEALTH_CHECK_INTERVAL"], "1s", "a duration ≥ 100ms, e.g. 1s", duration(100)),
  realtimeAdapter: variable(
    ["REALTIME_ADAPTER"],
    "",
    "memory (one process) or postgres (several processes on DATABASE_URL; the default with CLUSTER_RUNNER_ADDRESS)",
    oneOf("memory", "postgres")
  ),
  accessLog: variable(["ACCESS_LOG"], "false", "true or false", boolean),
  otelEndpoint: variable(["OTEL_EXPORTER_OTLP_ENDPOINT"], "", "the OTLP/HTTP collector's base URL, e.g. http://127.0.0.1:4318", httpUrl),
  otelServiceName: variable(["OTEL_SERVICE_NAME"], "room-orchestrator", "a service name", (t) => (t === "" ? { reason: "empty" } : t)),
  otelResourceAttributes: variable(
    ["OTEL_RESOURCE_ATTRIBUTES"],
    "",
    "key=value pairs separated by commas, e.g. service.instance.id=replica-1,deployment.environment.name=staging",
    resourceAttributes
  )
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

// ---------------------------------------------------------------------------
// The .env file: read with Node's own parser (the semantics of
// `node --env-file`), the process environment winning over it. Node's parser
// skips lines it cannot read; here such a line stops start-up instead, so a
// typo never silently drops a setting.

const envName = /^(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=/

/** The first line of a .env text that is not `NAME=value`, a comment or blank (multi-line quoted values allowed). */
export const dotEnvProblem = (text: string): string | undefined => {
  const lines = text.split(/\r?\n/)
  let open: string | undefined
  for (const [i, line] of lines.entries()) {
    if (open !== undefined) {
      if (line.includes(open)) open = undefined
      continue
    }
    const trimmed = line.trim()
    if (trimmed === "" || trimmed.startsWith("#")) continue
    if (!envName.test(trimmed)) return `line ${i + 1} (${JSON.stringify(trimmed.slice(0, 40))}) is not NAME=value`
    const value = trimmed.slice(trimmed.indexOf("=") + 1).trim()
    const quote = value[0]
    if ((quote === '"' || quote === "'" || quote === "`") && !value.slice(1).includes(quote)) open = quote
  }
  return open === undefined ? undefined : `a value opened with ${open} is never closed`
}

/**
 * The environment the settings are read from: `env` over the variables of
 * the `.env` file at `path` when there is one. A file that cannot be read or
 * has a line that is not `NAME=value` is a ConfigError naming it.
 */
export const withDotEnv = (
  env: Readonly<Record<string, string | undefined>>,
  path = ".env"
): Result.Result<Readonly<Record<string, string | undefined>>, ConfigError> => {
  if (!existsSync(path)) return Result.succeed(env)
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    return Result.fail(new ConfigError({ variable: ".env", message: `Cannot read ${path}: ${e instanceof Error ? e.message : String(e)}` }))
  }
  const problem = dotEnvProblem(text)
  if (problem !== undefined) return Result.fail(new ConfigError({ variable: ".env", message: `Invalid ${path}: ${problem}` }))
  return Result.succeed({ ...parseEnv(text), ...env })
}

/** The settings of this process: its environment over ./.env. */
export const settingsFromEnvironment = (): Result.Result<Settings, ConfigError> =>
  Result.flatMap(withDotEnv(process.env), decodeSettings)

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
    serverRooms: out.serverRooms ?? new Map(),
    realtimeAdapter: out.realtimeAdapter ?? (out.clusterRunnerAddress === undefined ? "memory" : "postgres")
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
  return Result.flatMap(checkCluster(settings), checkAuth)
}

// Several processes share rooms through a real Postgres only; the lock must
// be refreshed well before it expires or runners would lose shards.
const checkCluster = (s: Settings): Result.Result<Settings, ConfigError> => {
  if (s.realtimeAdapter === "postgres" && s.databaseUrl === undefined) {
    return settingFailure(
      "REALTIME_ADAPTER",
      "Invalid REALTIME_ADAPTER=\"postgres\": it needs DATABASE_URL (the embedded database serves one process)"
    )
  }
  if (s.clusterRunnerAddress === undefined) {
    return s.clusterListenAddress === undefined
      ? Result.succeed(s)
      : settingFailure("CLUSTER_LISTEN_ADDRESS", "Invalid CLUSTER_LISTEN_ADDRESS: it needs CLUSTER_RUNNER_ADDRESS, the address other processes reach this one at")
  }
  if (s.databaseUrl === undefined) {
    return settingFailure(
      "CLUSTER_RUNNER_ADDRESS",
      "Invalid CLUSTER_RUNNER_ADDRESS: several processes need DATABASE_URL, one Postgres they share (the embedded database serves one process)"
    )
  }
  if (s.realtimeAdapter === "memory") {
    return settingFailure(
      "REALTIME_ADAPTER",
      "Invalid REALTIME_ADAPTER=\"memory\": with CLUSTER_RUNNER_ADDRESS, broadcasts would not reach users connected to the other processes (leave it unset, or postgres)"
    )
  }
  if (s.clusterLockRefresh * 2 > s.clusterLockExpiration) {
    return settingFailure("CLUSTER_LOCK_REFRESH", "Invalid CLUSTER_LOCK_REFRESH: must be at most half of CLUSTER_LOCK_EXPIRATION")
  }
  return Result.succeed(s)
}

const settingFailure = (variable: string, message: string) => Result.fail(new ConfigError({ variable, message }))

// Settings that would silently verify less than the operator meant are refused.
const checkAuth = (s: Settings): Result.Result<Settings, ConfigError> => {
  if (s.authJwksUrl !== undefined && s.authIssuer === undefined) {
    return settingFailure("AUTH_JWKS_URL", "Invalid AUTH_JWKS_URL: it needs AUTH_ISSUER, the issuer its tokens must name")
  }
  if (s.authJwksUrl !== undefined && s.authJwtSecret !== undefined) {
    return settingFailure("AUTH_JWKS_URL", "Invalid AUTH_JWKS_URL: tokens are verified with AUTH_JWT_SECRET (HS256) or with a key set, not both")
  }
  if (s.authAudience !== undefined && s.authIssuer === undefined && s.authJwtSecret === undefined) {
    return settingFailure("AUTH_AUDIENCE", "Invalid AUTH_AUDIENCE: it needs AUTH_ISSUER or AUTH_JWT_SECRET")
  }
  return Result.succeed(s)
}

/** How requests are authenticated: `on` (credentials required), `off` (AUTH=none), `unset` (no setting). */
export const authMode = (s: Settings): "on" | "off" | "unset" =>
  s.auth === "none"
    ? "off"
    : s.authIssuer !== undefined || s.authJwtSecret !== undefined || s.servicePassword !== undefined
    ? "on"
    : "unset"

/** A host that only this machine can reach. */
export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(host)

/**
 * Secure by default: without any authentication setting the service serves
 * only this machine; on any other address it refuses to start.
 */
export const checkExposure = (s: Settings): Result.Result<Settings, ConfigError> => {
  if (authMode(s) === "unset" && !isLoopback(s.listen.host)) {
    return settingFailure(
      "AUTH",
      `Refusing to listen on ${s.listen.host}:${s.listen.port} without authentication: set AUTH_ISSUER (OIDC) or AUTH_JWT_SECRET (HS256), or AUTH=none to run open on purpose`
    )
  }
  const runner = runnerListenHost(s)
  if (runner !== undefined && !isLoopback(runner) && s.clusterNetwork !== "trusted") {
    return settingFailure(
      "CLUSTER_NETWORK",
      `Refusing to open the cluster's runner port on ${runner === "auto" ? "this machine's address" : runner} (CLUSTER_RUNNER_ADDRESS / CLUSTER_LISTEN_ADDRESS): ` +
        "other processes talk to it without authentication. Put the runners on a private network and set CLUSTER_NETWORK=trusted, or give only a port (:PORT) to stay on this machine"
    )
  }
  return Result.succeed(s)
}

/** The host the cluster's runner port listens on (`auto`: this machine's own address); undefined with one process. */
export const runnerListenHost = (s: Settings): string | undefined =>
  s.clusterRunnerAddress === undefined ? undefined : s.clusterListenAddress?.host ?? s.clusterRunnerAddress.host

/** The decoded settings, as a service. */
export class AppConfig extends Context.Service<AppConfig, Settings>()("room-orchestrator/AppConfig") {
  static readonly layerFrom = (env: Readonly<Record<string, string | undefined>>) =>
    Layer.effect(AppConfig, Effect.fromResult(decodeSettings(env)))

  static readonly layer = (settings: Settings) => Layer.succeed(AppConfig, settings)
}
