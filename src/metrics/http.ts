// HTTP and metrics: GET /metrics (Prometheus text from our registry), and the
// middleware under every request that times it into
// http_request_duration_seconds by route template (never the raw URL: one
// series per route, not per room) and writes the access log line when
// ACCESS_LOG is on. Headers, query strings and bodies are never logged.
import { Context, Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { AppConfig } from "../config.ts"
import { CurrentMetrics } from "./families.ts"

/** The route label of a request no route matched (404, 405, refused before routing). */
export const unmatchedRoute = "unmatched"

export const MetricsRoute = HttpRouter.use(Effect.fn(function*(router) {
  const families = yield* CurrentMetrics
  yield* router.add("GET", "/metrics", Effect.promise(() => families.registry.metrics()).pipe(
    Effect.map((text) =>
      HttpServerResponse.text(text, { contentType: families.registry.contentType, headers: { "cache-control": "no-store" } })
    )
  ))
}))

/** Where the route a request matched is noted for the request's metrics line. */
class MatchedRoute extends Context.Service<MatchedRoute, { route: string | undefined }>()("room-orchestrator/MatchedRoute") {}

/**
 * Route middleware (provided to every route): notes the matched route's
 * template. The router's context is gone by the time the response reaches
 * the serve-level middleware below, so it is passed up this way.
 */
export const NoteMatchedRoute = HttpRouter.middleware((handler) =>
  Effect.withFiber((fiber) => {
    const matched = Context.getOrUndefined(fiber.context, MatchedRoute)
    const route = Context.getOrUndefined(fiber.context, HttpRouter.RouteContext)
    if (matched !== undefined && route !== undefined) matched.route = route.route.path
    return handler
  })).layer

/** Serve-level middleware: sees the final response (after error bodies) and the route the router matched. */
export const requestMetrics = <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.withFiber((fiber) => {
    const request = Context.getUnsafe(fiber.context, HttpServerRequest.HttpServerRequest)
    const families = fiber.getRef(CurrentMetrics)
    const accessLog = Context.getOrUndefined(fiber.context, AppConfig)?.accessLog === true
    const matched = MatchedRoute.of({ route: undefined })
    const start = process.hrtime.bigint()
    const record = (status: number) => {
      const route = matched.route ?? unmatchedRoute
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      families.httpDuration.labels(request.method, route, String(status)).observe(seconds)
      if (!accessLog) return Effect.void
      return Effect.logInfo("HTTP request").pipe(Effect.annotateLogs({
        method: request.method,
        route,
        status,
        duration_ms: Math.round(seconds * 100_000) / 100,
        remote_address: request.remoteAddress._tag === "Some" ? request.remoteAddress.value : ""
      }))
    }
    return Effect.tap(Effect.provideService(app, MatchedRoute, matched), (response) => record(response.status))
  })
