// Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans are exported over
// OTLP/HTTP to `<endpoint>/v1/traces` through Effect's OpenTelemetry tracer:
// one trace per HTTP request (the HTTP server's span, the room's call and
// step, the placement and the SQL statements beneath it), and one per
// background sweep that acts (an idle sweep records nothing). Every span
// carries the resource attributes OpenTelemetry's standard variables give
// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES), and by default
// service.instance.id (one per process), service.version, host.name and
// process.pid, so replicas can be told apart. Unset, no tracer is installed
// and no span is recorded at all.
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import type { Context } from "@opentelemetry/api"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type Span, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, References } from "effect"
import { randomUUID } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { hostname } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Settings } from "./config.ts"

/** The traces URL of an OTLP/HTTP endpoint, as OpenTelemetry's exporters derive it from OTEL_EXPORTER_OTLP_ENDPOINT. */
export const tracesUrl = (endpoint: string) => `${endpoint.replace(/\/+$/, "")}/v1/traces`

/** This service's version: its package.json, found above this module (also when compiled to dist/). */
const serviceVersion = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    const file = join(dir, "package.json")
    if (!existsSync(file)) continue
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string }
    if (pkg.name === "room-orchestrator" && pkg.version !== undefined) return pkg.version
  }
  return "unknown"
})()

/** One per process: replicas of one deployment are told apart by it. */
const instanceId = randomUUID()

export type TraceSettings = Pick<Settings, "otelEndpoint" | "otelServiceName" | "otelResourceAttributes">

/**
 * The resource of every span: defaults, then OTEL_RESOURCE_ATTRIBUTES, then
 * OTEL_SERVICE_NAME, which wins over a service.name given there (as
 * OpenTelemetry's SDKs do).
 */
export const resourceAttributes = (settings: TraceSettings): Record<string, string | number> => ({
  "service.instance.id": instanceId,
  "service.version": serviceVersion,
  "host.name": hostname(),
  "process.pid": process.pid,
  ...Object.fromEntries(settings.otelResourceAttributes ?? []),
  "service.name": settings.otelServiceName
})

/**
 * A statement that runs outside any request or sweep action (a periodic
 * reload or check that found nothing to do) is a trace of one span that
 * tells an operator nothing: it is not exported. A statement has no
 * children, so dropping it leaves no span without its parent.
 */
export class BackgroundStatementFilter implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}
  onStart(span: Span, context: Context) {
    this.next.onStart(span, context)
  }
  onEnd(span: ReadableSpan) {
    if (span.parentSpanContext === undefined && span.attributes["db.query.text"] !== undefined) return
    this.next.onEnd(span)
  }
  forceFlush() {
    return this.next.forceFlush()
  }
  shutdown() {
    return this.next.shutdown()
  }
}

// Spans leave in batches; what is pending is sent when the service stops.
const provider = (endpoint: string, settings: TraceSettings) =>
  Layer.effect(
    OtelTracer.OtelTracerProvider,
    Effect.acquireRelease(
      Effect.sync(() =>
        new BasicTracerProvider({
          resource: resourceFromAttributes(resourceAttributes(settings)),
          spanProcessors: [
            new BackgroundStatementFilter(new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(endpoint) }), { scheduledDelayMillis: 1_000 }))
          ]
        })
      ),
      (p) => Effect.promise(() => p.shutdown().catch(() => undefined))
    )
  )

export const tracingLayer = (settings: TraceSettings) =>
  settings.otelEndpoint === undefined
    ? Layer.succeed(References.TracerEnabled, false)
    : OtelTracer.layer.pipe(Layer.provide(provider(settings.otelEndpoint, settings)))

/** A background sweep's look for work: not traced (it runs every second or so and mostly finds nothing). */
export const untraced = <A, E, R>(look: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => Effect.withTracerEnabled(look, false)

/** What a background sweep does with the work it found: a trace of its own. */
export const sweepAction = (name: string, attributes: Record<string, unknown> = {}) => <A, E, R>(act: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withSpan(act, name, { root: true, attributes })
