// Every error leaves as `{"error": "<clear message>"}`: malformed input is a
// 400 naming the field, an oversized body a 413, an unknown path a 404, a
// wrong method a 405 with `Allow`, and anything unexpected a logged 500 —
// never an empty body, never a crash.
import { ByteSize, Cause, Effect } from "effect"
import { HttpIncomingMessage, HttpRouter, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiError } from "effect/http-api"
import { describeIssue } from "../domain/issues.ts"
import { AllowedMethods } from "./allowedMethods.ts"

/** Request bodies above this are refused (the largest legitimate one is a few KiB). */
export const maxBodySize = ByteSize.kibibytes(64)
const tooLarge = "request body too large (at most 64 KiB)"

const errorResponse = (status: number, error: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.jsonUnsafe({ error }, { status, headers })

const kindText: Record<string, string> = {
  Payload: "invalid request body",
  Body: "invalid request body",
  Params: "invalid path",
  Query: "invalid query",
  Headers: "invalid headers"
}

const toResponse = (
  request: HttpServerRequest.HttpServerRequest,
  cause: Cause.Cause<unknown>,
  allowed: AllowedMethods["Service"]
): Effect.Effect<HttpServerResponse.HttpServerResponse, unknown> =>
  Effect.gen(function*() {
    for (const reason of cause.reasons) {
      const e = reason._tag === "Fail" ? reason.error : reason._tag === "Die" ? reason.defect : undefined
      if (HttpApiError.HttpApiSchemaError.is(e) && e.kind !== "ResponseHeaders") {
        return errorResponse(400, `${kindText[e.kind] ?? "invalid request"}: ${describeIssue(e.cause.message)}`)
      }
      if (HttpApiError.HttpApiPayloadTooLarge.is(e)) return errorResponse(413, tooLarge)
      const inner = e instanceof HttpServerError.HttpServerError ? e.reason : e
      if (inner instanceof HttpServerError.RequestParseError) {
        return inner.reason === "BodyTooLarge"
          ? errorResponse(413, tooLarge)
          : errorResponse(400, "the request body could not be read")
      }
      if (inner instanceof HttpServerError.RouteNotFound) {
        const path = request.url.split("?")[0]
        const allow = allowed.of(request.url)
        return allow.length === 0
          ? errorResponse(404, `no such endpoint: ${request.method} ${path}`)
          : errorResponse(405, `method not allowed: ${request.method} ${path} takes ${allow.join(", ")}`, { allow: allow.join(", ") })
      }
    }
    // Work of this request was interrupted (a room's shard moved, the process
    // is stopping) while the request itself goes on: a JSON 503, never an
    // empty one. (A request whose client left is interrupted itself and
    // never gets here.)
    if (Cause.hasInterruptsOnly(cause)) return errorResponse(503, "the request was interrupted (a room moved between processes, or the service is stopping); try again")
    yield* Effect.logError("Request failed").pipe(
      Effect.annotateLogs({ method: request.method, url: request.url, cause: Cause.pretty(cause) })
    )
    return errorResponse(500, "internal server error")
  })

/** How soon a client may try again after a 503 (a dependency down, no gateway online). */
export const retryAfterSeconds = 2

// Plain-text refusals produced below our handlers (e.g. 415) get the JSON shape too;
// a 503 tells the client when to try again.
const asJsonError = (response: HttpServerResponse.HttpServerResponse) => {
  const json = response.status < 400 || response.body._tag !== "Uint8Array" || !response.body.contentType.startsWith("text/plain")
    ? response
    : errorResponse(response.status, new TextDecoder().decode(response.body.body))
  return json.status === 503 ? HttpServerResponse.setHeader(json, "retry-after", String(retryAfterSeconds)) : json
}

export const ErrorBodies = HttpRouter.middleware(Effect.gen(function*() {
  const allowed = yield* AllowedMethods
  return (app) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      return yield* app.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, maxBodySize),
        Effect.catchCause((cause) => toResponse(request, cause, allowed)),
        Effect.map(asJsonError)
      )
    })
}), { global: true })
