import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { checkExposure, decodeSettings } from "../src/config.ts"
import { parseGoDuration } from "../src/duration.ts"
import { refusalNaming, refusalOf, settingsOf } from "./support/settings.ts"

const failure = refusalOf(decodeSettings)
const settings = settingsOf(decodeSettings)

describe("configuration", () => {
  it("defaults match the specification", () => {
    const s = settings({})
    assert.deepStrictEqual(s.listen, { host: "127.0.0.1", port: 8081 })
    assert.strictEqual(s.requestTimeout, 30_000)
    assert.strictEqual(s.databaseUrl, undefined)
    assert.strictEqual(s.mqttUrl, undefined)
    assert.strictEqual(s.dataDir, "./data")
    assert.strictEqual(s.scale, false)
    assert.deepStrictEqual(s.availableJanusServers, ["gxy1", "gxy2", "gxy3", "gxy4", "gxy5", "gxy6", "gxy7", "gxy8", "gxy9", "gxy10", "gxy11", "gxy12"])
    assert.strictEqual(s.maxServerCapacity, 400)
    assert.strictEqual(s.avgRoomOccupancy, 10)
    assert.deepStrictEqual(s.serverRegions, [])
    assert.strictEqual(s.serverRooms.size, 0)
    assert.strictEqual(s.balanceStrategy, "least-loaded")
    assert.strictEqual(s.cleanSessionsInterval, 60_000)
    assert.strictEqual(s.deadSessionPeriod, 90_000)
    assert.strictEqual(s.drainGrace, 30_000)
    assert.strictEqual(s.assignmentTtl, 120_000)
    assert.strictEqual(s.roomResidency, 30_000)
    assert.strictEqual(s.failoverWaitTime, 5_000)
    assert.strictEqual(s.logFormat, "logfmt")
    assert.strictEqual(s.logLevel, "info")
    assert.strictEqual(s.seed, "demo")
  })

  it.each([
    ["AVG_ROOM_OCCUPANCY", "0", "must be at least 1"],
    ["AVG_ROOM_OCCUPANCY", "2.5", "not an integer"],
    ["MAX_SERVER_CAPACITY", "abc", "not an integer"],
    ["MAX_SERVER_CAPACITY", "-5", "must be at least 1"],
    ["SERVER_REGIONS", "IL-gxy1", "is not COUNTRY:gateways"],
    ["SERVER_REGIONS", "ISR:gxy1", "is not a two-letter country code"],
    ["SERVER_REGIONS", "IL:gxy1;il:gxy2", "country IL appears twice"],
    ["SERVER_REGIONS", "IL:", "invalid gateway name"],
    ["SERVER_REGIONS", "IL:gxy1:gxy2", "is not COUNTRY:gateways"],
    ["SERVER_ROOMS", "2171:gxy5:gxy6", "is not rooms:gateway"],
    ["SERVER_ROOMS", "a b:gxy5", "is not a room id"],
    ["SERVER_ROOMS", "2171:gxy5;2171:gxy6", "room 2171 is pinned twice"],
    ["BALANCE_STRATEGY", "random", "unknown value"],
    ["LISTEN_ADDRESS", "127.0.0.1", "missing port"],
    ["LISTEN_ADDRESS", "127.0.0.1:70000", "port out of range"],
    ["SCALE", "maybe", "not a boolean"],
    ["DRAIN_GRACE", "30", "not a duration"],
    ["DEAD_SESSION_PERIOD", "soon", "not a duration"],
    ["ROOM_RESIDENCY", "500ms", "must be at least 1s"],
    ["ROOM_RESIDENCY", "forever", "not a duration"],
    ["CLEAN_SESSIONS_INTERVAL", "1ms", "must be at least 100ms"],
    ["REQUEST_TIMEOUT", "500ms", "must be at least 1s"],
    ["AVAILABLE_JANUS_SERVERS", "gxy1,,gxy2", "invalid gateway name"],
    ["AVAILABLE_JANUS_SERVERS", "gxy1,gxy1", "lists a gateway twice"],
    ["DATABASE_URL", "mysql://localhost/x", "not a postgres:// URL"],
    ["MQTT_URL", "http://localhost", "unsupported scheme"],
    ["LOG_FORMAT", "xml", "unknown value"],
    ["LOG_LEVEL", "loud", "unknown value"]
  ])("refuses %s=%s, naming the variable and the expected form", (name, value, reason) => {
    const error = refusalNaming(decodeSettings)(name, value, reason)
    assert.include(error.message, `Invalid ${name}=`)
    assert.include(error.message, "expected")
    assert.notInclude(error.message, "\n")
  })

  it("names the alias the operator used", () => {
    assert.strictEqual(failure({ DB_URL: "nope" }).variable, "DB_URL")
    assert.strictEqual(failure({ MQTT_BROKER_URL: "nope" }).variable, "MQTT_BROKER_URL")
    assert.strictEqual(settings({ DB_URL: "postgres://u@h:5433/db" }).databaseUrl, "postgres://u@h:5433/db")
    assert.strictEqual(settings({ MQTT_BROKER_URL: "mqtt://127.0.0.1:1883" }).mqttUrl, "mqtt://127.0.0.1:1883")
  })

  it("never shows a database password in a refusal", () => {
    const error = failure({ DATABASE_URL: "mysql://user:s3cret@db/x" })
    assert.notInclude(error.message, "s3cret")
  })

  it("refuses regions and pinned rooms naming gateways that are not available", () => {
    assert.include(failure({ SERVER_REGIONS: "IL:gxy13" }).message, "gxy13, which is not in AVAILABLE_JANUS_SERVERS")
    assert.include(failure({ AVAILABLE_JANUS_SERVERS: "a,b", SERVER_ROOMS: "1:c" }).message, "pinned to c")
  })

  it("reads regions with country codes in any case, and pinned rooms", () => {
    const s = settings({ SERVER_REGIONS: "il:gxy1, gxy2; US:gxy4;", SERVER_ROOMS: "2171,02172:gxy5;3000,class-7b:gxy6", SCALE: "TRUE" })
    assert.deepStrictEqual(s.serverRegions, [{ country: "IL", gateways: ["gxy1", "gxy2"] }, { country: "US", gateways: ["gxy4"] }])
    // room ids in canonical form: digits without leading zeros, string ids as written
    assert.deepStrictEqual([...s.serverRooms], [["2171", "gxy5"], ["2172", "gxy5"], ["3000", "gxy6"], ["class-7b", "gxy6"]])
    assert.strictEqual(s.scale, true)
  })

  it("reads a listen address with only a port as every interface", () => {
    assert.deepStrictEqual(settings({ LISTEN_ADDRESS: ":9000" }).listen, { host: "0.0.0.0", port: 9000 })
    assert.deepStrictEqual(settings({ LISTEN_ADDRESS: "[::1]:9000" }).listen, { host: "::1", port: 9000 })
  })
})

describe("Go durations", () => {
  it.each([
    ["90s", 90_000], ["1m", 60_000], ["1h30m", 5_400_000], ["250ms", 250], ["1.5s", 1_500], ["2h", 7_200_000], ["0", 0], ["1m30s", 90_000]
  ])("%s is %d ms", (text, ms) => assert.strictEqual(parseGoDuration(text), ms))

  it.each(["", "30", "1x", "s", "1h 30m", "-1s", "1.2.3s"])("refuses %j", (text) => assert.strictEqual(parseGoDuration(text), undefined))
})

describe("limits and the cluster's runner port", () => {
  it("the limits of SPEC §14 have their defaults", () => {
    const s = settings({})
    assert.strictEqual(s.headersTimeout, 10_000)
    assert.strictEqual(s.keepAliveTimeout, 5_000)
    assert.strictEqual(s.maxConnections, undefined)
    assert.strictEqual(s.maxSessionsPerUser, 8)
    assert.strictEqual(s.realtimeAuthTimeout, 10_000)
    assert.strictEqual(s.mqttMaxMessage, 1024 * 1024)
    assert.strictEqual(s.mqttMaxBatch, 1000)
    assert.strictEqual(s.meetingRoomTtl, 24 * 3600 * 1000)
    assert.strictEqual(settings({ MQTT_MAX_MESSAGE: "64KiB" }).mqttMaxMessage, 65_536)
    assert.include(failure({ MQTT_MAX_MESSAGE: "lots" }).message, "Invalid MQTT_MAX_MESSAGE=\"lots\": not a size")
  })

  const cluster = { DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x" }
  const exposure = (env: Record<string, string>) => Result.flatMap(decodeSettings({ ...cluster, ...env }), checkExposure)

  it("a port alone keeps the runner on loopback; another address needs CLUSTER_NETWORK=trusted", () => {
    const local = exposure({ CLUSTER_RUNNER_ADDRESS: ":34431" })
    assert.isTrue(Result.isSuccess(local))
    assert.deepStrictEqual(Result.getOrThrow(local).clusterRunnerAddress, { host: "127.0.0.1", port: 34431 })
    for (const env of [{ CLUSTER_RUNNER_ADDRESS: "10.0.0.5:34431" }, { CLUSTER_RUNNER_ADDRESS: "auto:34431" }, { CLUSTER_RUNNER_ADDRESS: ":34431", CLUSTER_LISTEN_ADDRESS: "0.0.0.0:34431" }]) {
      const refused = exposure(env)
      assert.isTrue(Result.isFailure(refused), JSON.stringify(env))
      const e = (refused as Result.Failure<unknown, { variable: string; message: string }>).failure
      assert.strictEqual(e.variable, "CLUSTER_NETWORK")
      assert.match(e.message, /Refusing to open the cluster's runner port .* set CLUSTER_NETWORK=trusted/)
      assert.isTrue(Result.isSuccess(exposure({ ...env, CLUSTER_NETWORK: "trusted" })), JSON.stringify(env))
    }
  })
})
