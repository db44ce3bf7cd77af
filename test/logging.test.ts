// JSON logs as a log pipeline reads them: one flat object per line, the
// seeds' fields at the top level with stable types, the access log only when
// asked for, audit lines for admin changes, and never a credential.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, References } from "effect"
import { formatFlatJson } from "../src/logging.ts"
import { backend } from "./support/database.ts"
import { call, serviceOnFreshDatabase } from "./support/service.ts"

const jsonLogs = () => {
  const lines: Array<string> = []
  const logger = Layer.mergeAll(
    Logger.layer([Logger.map(formatFlatJson, (line) => void lines.push(line))]),
    Layer.succeed(References.MinimumLogLevel, "Info")
  )
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  return { lines, logger, parsed, find: (message: string) => parsed().filter((l) => l.message === message) }
}

describe(`JSON logs (${backend})`, () => {
  it.live("one flat object per line: the seeds' fields at the top level, numbers and booleans as such", () =>
    Effect.gen(function*() {
      const logs = jsonLogs()
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", SERVER_REGIONS: "IL:gxy2" }, logs.logger)
      yield* api.post("/v2/room_server", { room: 2171, geo: { country_code: "il" } })
      const [assigned] = logs.find("Assigned room to server")
      assert.deepStrictEqual(
        { ...assigned, timestamp: typeof assigned!.timestamp },
        {
          timestamp: "string",
          level: "INFO",
          message: "Assigned room to server",
          room_id: "2171",
          gateway_name: "gxy2",
          country_code: "IL",
          regional_match: true,
          stage: "regional"
        }
      )
      assert.match(String(assigned!.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      for (const line of logs.parsed()) {
        for (const nested of ["annotations", "spans", "fiberId"]) assert.notProperty(line, nested)
        for (const value of Object.values(line)) assert.notStrictEqual(typeof value, "object", JSON.stringify(line))
      }
      // no per-request line unless ACCESS_LOG=true
      assert.lengthOf(logs.find("HTTP request"), 0)
    }).pipe(Effect.scoped))

  it.live("the legacy misconfiguration line: default_gateway_id a number when the room has one, left out when not", () =>
    Effect.gen(function*() {
      const logs = jsonLogs()
      const { api } = yield* serviceOnFreshDatabase({}, logs.logger)
      yield* api.patch("/admin/gateways/gxy1", { enabled: false })
      assert.strictEqual((yield* api.post("/v2/room_server", { room: 2171 })).status, 500)
      yield* api.post("/admin/rooms", { room: 4000, name: "No gateway" })
      assert.strictEqual((yield* api.post("/v2/room_server", { room: 4000 })).status, 500)
      const [disabled, none] = logs.find("Gateway not found for room in legacy mode (SCALE=false)")
      assert.deepInclude(disabled, { level: "ERROR", room_id: "2171", default_gateway: "gxy1" })
      assert.isNumber(disabled!.default_gateway_id)
      assert.deepInclude(none, { room_id: "4000", default_gateway: "" })
      assert.notProperty(none, "default_gateway_id")
    }).pipe(Effect.scoped))

  it.live("ACCESS_LOG=true: one line per request (method, route template, status, duration, remote address); audit lines; no credential anywhere", () =>
    Effect.gen(function*() {
      const logs = jsonLogs()
      const password = "s3rvice-secret-password"
      const { base } = yield* serviceOnFreshDatabase({ ACCESS_LOG: "true", SERVICE_PASSWORD: password }, logs.logger)
      const basic = `Basic ${Buffer.from(`service:${password}`).toString("base64")}`
      assert.strictEqual((yield* call("GET", `${base}/room/2171?token=abc`, undefined, { authorization: basic })).status, 200)
      assert.strictEqual((yield* call("GET", `${base}/room/2171`)).status, 401)
      assert.strictEqual((yield* call("PATCH", `${base}/admin/gateways/gxy3`, { events_password: "gateway-secret", capacity: 70 }, { authorization: basic })).status, 200)

      const requests = logs.find("HTTP request")
      assert.lengthOf(requests, 3)
      assert.deepStrictEqual(
        requests.map((r) => ({ method: r.method, route: r.route, status: r.status, remote_address: r.remote_address })),
        [
          { method: "GET", route: "/room/:room", status: 200, remote_address: "127.0.0.1" },
          { method: "GET", route: "/room/:room", status: 401, remote_address: "127.0.0.1" },
          { method: "PATCH", route: "/admin/gateways/:name", status: 200, remote_address: "127.0.0.1" }
        ]
      )
      for (const r of requests) assert.isNumber(r.duration_ms)

      const [audit] = logs.find("Admin change")
      assert.deepInclude(audit, { level: "INFO", subject: "service", action: "gateway.update", gateway: "gxy3" })
      assert.deepStrictEqual(JSON.parse(String(audit!.changes)), { capacity: 70, events_password: "(set)" })

      const all = logs.lines.join("\n")
      for (const secret of [password, basic.slice(6), "gateway-secret", "token=abc"]) assert.notInclude(all, secret)
    }).pipe(Effect.scoped))
})
