// Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, every span of the service —
// HTTP requests (the HTTP server's own), room steps (Room.step), placement
// (Placement.choose), SQL statements — is exported over OTLP/HTTP to
// `<endpoint>/v1/traces` as OTEL_SERVICE_NAME, through Effect's OpenTelemetry
// tracer. Unset, no tracer is installed and no span is recorded at all.
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, References } from "effect"
import type { Settings } from "./config.ts"

/** The traces URL of an OTLP/HTTP endpoint, as OpenTelemetry's exporters derive it from OTEL_EXPORTER_OTLP_ENDPOINT. */
export const tracesUrl = (endpoint: string) => `${endpoint.replace(/\/+$/, "")}/v1/traces`

// Spans leave in batches; what is pending is sent when the service stops.
const provider = (endpoint: string, serviceName: string) =>
  Layer.effect(
    OtelTracer.OtelTracerProvider,
    Effect.acquireRelease(
      Effect.sync(() =>
        new BasicTracerProvider({
          resource: resourceFromAttributes({ "service.name": serviceName }),
          spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(endpoint) }), { scheduledDelayMillis: 1_000 })]
        })
      ),
      (p) => Effect.promise(() => p.shutdown().catch(() => undefined))
    )
  )

export const tracingLayer = (settings: Pick<Settings, "otelEndpoint" | "otelServiceName">) =>
  settings.otelEndpoint === undefined
    ? Layer.succeed(References.TracerEnabled, false)
    : OtelTracer.layer.pipe(Layer.provide(provider(settings.otelEndpoint, settings.otelServiceName)))
