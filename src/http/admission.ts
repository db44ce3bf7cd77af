// Admission control: each process bounds the requests it works on at once,
// per class of route. Beyond its bound a request is answered at once — a
// JSON 503 with Retry-After — instead of joining a queue that would grow to
// minutes under a lesson start; shed requests are counted. Health checks are
// never shed.
import { Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { type AdmissionClass, AppConfig } from "../config.ts"
import { CurrentMetrics } from "../metrics/families.ts"
import { retryAfterSeconds } from "./middleware.ts"

/** The class of a request, by method and path; undefined: never shed. */
export const admissionClass = (method: string, path: string): AdmissionClass | undefined => {
  if (path === "/health" || path === "/health_check" || path === "/ready") return undefined
  if (path === "/v2/room_server" || path.startsWith("/api/rooms")) return "rooms"
  if ((method === "PUT" && path.startsWith("/users/")) || path === "/event") return "sessions"
  if (method === "GET" && (path === "/groups" || path === "/rooms" || path.startsWith("/room/") || path.startsWith("/rooms/") || path === "/servers" || path === "/metrics")) return "reads"
  if (path.startsWith("/admin/") || path === "/inspect") return "admin"
  return "other"
}


export const Admission = HttpRouter.middleware(Effect.gen(function*() {
  const config = yield* AppConfig
  const metrics = yield* CurrentMetrics
  const inFlight: Record<AdmissionClass, number> = { rooms: 0, sessions: 0, reads: 0, admin: 0, other: 0 }
  return (app) =>
    Effect.suspend(() => Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const kind = admissionClass(request.method, request.url.split("?")[0]!)
      if (kind === undefined) return app
      const bound = config.maxInFlight[kind]
      if (inFlight[kind] >= bound) {
        metrics.requestsShed.labels(kind).inc()
        return Effect.succeed(HttpServerResponse.jsonUnsafe(
          { error: `overloaded: ${bound} requests of this kind are in progress here; try again` },
          { status: 503, headers: { "retry-after": String(retryAfterSeconds) } }
        ))
      }
      inFlight[kind]++
      return Effect.ensuring(app, Effect.sync(() => void inFlight[kind]--))
    }))
}), { global: true })
