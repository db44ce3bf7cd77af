// What gxydb-api's clients need from the HTTP layer besides the routes:
// browsers are served CORS (preflights answered 204 before any route or
// credential check), and client bodies are JSON whatever content type they
// are sent with, as gxydb-api reads them. Admin routes stay strict.
import { Effect, Layer } from "effect"
import { Headers, HttpRouter, HttpServerRequest } from "effect/http"
import { AppConfig } from "../config.ts"

/** Client routes whose body is JSON even when sent as text/plain or without a content type. */
const lenientBody = (method: string, path: string) =>
  (method === "POST" && (path === "/v2/room_server" || path === "/event" || path === "/api/rooms/create")) ||
  (method === "PUT" && (path.startsWith("/users/") || path.startsWith("/rooms/")))

const isJson = (contentType: string | undefined) =>
  contentType !== undefined && /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim())

export const JsonBodies = HttpRouter.middleware((app) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const path = request.url.split("?")[0]!
    if (!lenientBody(request.method, path) || isJson(request.headers["content-type"])) return yield* app
    const json = request.modify({ headers: Headers.set(request.headers, "content-type", "application/json") })
    return yield* Effect.provideService(app, HttpServerRequest.HttpServerRequest, json)
  }), { global: true })

/** CORS for browsers, from CORS_ORIGINS (`*` by default, like gxydb-api). */
export const Cors = Layer.unwrap(Effect.gen(function*() {
  const config = yield* AppConfig
  return HttpRouter.cors({
    allowedOrigins: config.corsOrigins.includes("*") ? [] : config.corsOrigins,
    allowedMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    maxAge: 3600
  })
}))
