// Traces an operator can use: every span names its service and its replica
// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, a service.instance.id by
// default); an idle service exports nothing; one request is one trace under
// one HTTP span; a background sweep is traced when it acts.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result, Schedule } from "effect"
import { decodeSettings } from "../src/config.ts"
import { createServer } from "node:http"
import { inProcessBroker, publisher } from "./support/broker.ts"
import { backend } from "./support/database.ts"
import { serviceOnFreshDatabase } from "./support/service.ts"

interface Span {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly resource: Record<string, unknown>
}

/** An OTLP/HTTP JSON receiver on a free loopback port; each span with its resource's attributes. */
const receiver = Effect.acquireRelease(
  Effect.promise(async () => {
    const spans: Array<Span> = []
    const server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"))
        for (const rs of body.resourceSpans ?? []) {
          const resource = Object.fromEntries((rs.resource?.attributes ?? []).map((a: { key: string; value: Record<string, unknown> }) =>
            [a.key, Object.values(a.value)[0]]
          ))
          for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) spans.push({ ...span, parentSpanId: span.parentSpanId || undefined, resource })
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const address = server.address()
    return { server, spans, port: typeof address === "object" && address ? address.port : 0 }
  }),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

const eventually = <A>(find: () => A | undefined, what: string) =>
  Effect.suspend(() => {
    const found = find()
    return found === undefined ? Effect.fail(what) : Effect.succeed(found)
  }).pipe(Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50 }))

describe("OTEL_RESOURCE_ATTRIBUTES", () => {
  it("is read as OpenTelemetry writes it; a malformed value stops start-up naming the variable", () => {
    const read = (value: string) => decodeSettings({ OTEL_RESOURCE_ATTRIBUTES: value })
    const good = read(" service.instance.id=replica-1 , k8s.pod.name=ro%2D7,")
    assert.isTrue(Result.isSuccess(good))
    if (Result.isSuccess(good)) assert.deepStrictEqual(good.success.otelResourceAttributes, [["service.instance.id", "replica-1"], ["k8s.pod.name", "ro-7"]])
    const refused: ReadonlyArray<readonly [string, string]> = [
      ["replica-1", `"replica-1" is not key=value`],
      ["=x", `"=x" is not key=value`],
      ["a=%E0%A4%A", "the value of a is badly percent-encoded"]
    ]
    for (const [value, reason] of refused) {
      const bad = read(value)
      assert.isTrue(Result.isFailure(bad), value)
      if (Result.isFailure(bad)) assert.include(bad.failure.message, `Invalid OTEL_RESOURCE_ATTRIBUTES=${JSON.stringify(value)}: ${reason}`)
    }
  })
})

describe(`traces an operator can use (${backend})`, () => {
  it.live("name their service and replica; an idle service sends none; a request is one trace under its HTTP span", () =>
    Effect.gen(function*() {
      const collector = yield* receiver
      const { api } = yield* serviceOnFreshDatabase({
        SCALE: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
        OTEL_SERVICE_NAME: "ro-operator",
        OTEL_RESOURCE_ATTRIBUTES: "service.instance.id=replica-7,deployment.environment.name=staging%20eu,service.name=overridden",
        CLEAN_SESSIONS_INTERVAL: "200ms"
      })
      // start-up's own spans settle, then the service idles with its sweeps running
      yield* Effect.sleep("2500 millis")
      collector.spans.length = 0
      yield* Effect.sleep("3 seconds")
      assert.deepStrictEqual(collector.spans.map((s) => s.name), [], "an idle service exports no trace")

      assert.deepStrictEqual((yield* api.post("/v2/room_server", { room: 2171 })).body, { janus: "gxy1" })
      const request = yield* eventually(() => collector.spans.find((s) => s.name === "POST"), "no HTTP span yet")
      yield* Effect.sleep("1500 millis")
      const trace = collector.spans.filter((s) => s.traceId === request.traceId)
      assert.deepStrictEqual(trace.filter((s) => s.parentSpanId === undefined).map((s) => s.name), ["POST"], "one root: the HTTP request")
      const byId = new Map(trace.map((s) => [s.spanId, s]))
      const underRequest = (s: Span): boolean => s === request || (s.parentSpanId !== undefined && byId.has(s.parentSpanId) && underRequest(byId.get(s.parentSpanId)!))
      assert.isTrue(trace.every(underRequest), "every span of the trace hangs under the request's")
      const names = new Set(trace.map((s) => s.name))
      for (const name of ["Room.step", "Placement.choose", "postgres"]) assert.isTrue(names.has(name), `${name} not in ${[...names]}`)
      assert.strictEqual(collector.spans.filter((s) => s.name === "POST").length, 1, "one span per HTTP request")

      for (const span of collector.spans) {
        assert.deepInclude(span.resource, {
          "service.name": "ro-operator",
          "service.instance.id": "replica-7",
          "service.version": "0.1.0",
          "deployment.environment.name": "staging eu"
        })
        assert.isString(span.resource["host.name"])
      }
    }).pipe(Effect.scoped))

  it.live("a replica without OTEL_RESOURCE_ATTRIBUTES still has its own service.instance.id; a sweep that acts is traced", () =>
    Effect.gen(function*() {
      const collector = yield* receiver
      const broker = yield* inProcessBroker
      const { api } = yield* serviceOnFreshDatabase({
        SCALE: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
        MQTT_URL: `mqtt://127.0.0.1:${broker.port}`,
        FAILOVER_WAIT_TIME: "0s"
      })
      assert.deepStrictEqual((yield* api.post("/v2/room_server", { room: 2171 })).body, { janus: "gxy1" })
      const pub = yield* publisher({ host: "127.0.0.1", port: broker.port })
      yield* pub.publish("janus/gxy1/status", { online: false }, true)
      const move = yield* eventually(() => collector.spans.find((s) => s.name === "FailoverSweep.move"), "no failover trace")
      assert.isUndefined(move.parentSpanId, "a sweep's action is a trace of its own")
      yield* eventually(() => collector.spans.find((s) => s.traceId === move.traceId && s.name === "Room.step"), "the room's step is not in the failover's trace")
      assert.deepStrictEqual((yield* api.post("/v2/room_server", { room: 2171 })).body, { janus: "gxy2" })
      const ids = new Set(collector.spans.map((s) => s.resource["service.instance.id"]))
      assert.strictEqual(ids.size, 1)
      assert.match(String([...ids][0]), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      assert.isTrue(collector.spans.every((s) => s.resource["service.name"] === "room-orchestrator"))
    }).pipe(Effect.scoped))
})
