// Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach an OTLP/HTTP
// collector (here a small receiver the test runs): the HTTP request, the
// room's step, the placement and the SQL statements, in one trace.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { createServer } from "node:http"
import { backend } from "./support/database.ts"
import { serviceOnFreshDatabase } from "./support/service.ts"

interface Span {
  readonly name: string
  readonly traceId: string
  readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: Record<string, unknown> }>
}

/** An OTLP/HTTP JSON receiver on a free loopback port. */
const receiver = Effect.acquireRelease(
  Effect.promise(async () => {
    const spans: Array<Span & { readonly service: unknown }> = []
    const requests: Array<{ url: string; contentType: string }> = []
    const server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        requests.push({ url: req.url ?? "", contentType: req.headers["content-type"] ?? "" })
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"))
        for (const rs of body.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a: { key: string }) => a.key === "service.name")?.value?.stringValue
          for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) spans.push({ ...span, service })
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const address = server.address()
    return { server, spans, requests, port: typeof address === "object" && address ? address.port : 0 }
  }),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

const attribute = (span: Span, key: string) => span.attributes.find((a) => a.key === key)?.value

describe(`traces (${backend})`, () => {
  it.live("HTTP, room step, placement and SQL spans reach the collector as one trace, named by OTEL_SERVICE_NAME", () =>
    Effect.gen(function*() {
      const collector = yield* receiver
      const { api } = yield* serviceOnFreshDatabase({
        SCALE: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}/`,
        OTEL_SERVICE_NAME: "ro-trace-test"
      })
      assert.deepStrictEqual((yield* api.post("/v2/room_server", { room: 2171 })).body, { janus: "gxy1" })

      const request = yield* Effect.suspend(() => {
        const found = collector.spans.find((s) => s.name === "POST" && attribute(s, "http.route")?.stringValue === "/v2/room_server")
        return found === undefined ? Effect.fail("no HTTP span yet") : Effect.succeed(found)
      }).pipe(Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50 }))
      const trace = collector.spans.filter((s) => s.traceId === request.traceId)
      const names = new Set(trace.map((s) => s.name))
      for (const name of ["Room.step", "Placement.choose"]) assert.isTrue(names.has(name), `${name} not in ${[...names]}`)
      assert.isTrue(trace.some((s) => attribute(s, "db.query.text") !== undefined), `no SQL span in ${[...names]}`)
      assert.deepInclude(attribute(request, "http.response.status_code"), { intValue: 200 })
      assert.isTrue(collector.spans.every((s) => s.service === "ro-trace-test"))
      assert.isTrue(collector.requests.every((r) => r.url === "/v1/traces" && r.contentType.startsWith("application/json")))
    }).pipe(Effect.scoped))
})
