// The three endpoints of a lesson start — POST /v2/room_server,
// PUT /users/:id and GET /room/:id — as plain router routes. Each decodes and
// encodes with the API's own definition of its endpoint (src/http/api.ts:
// path, schemas, errors; the document lists them with the others), passes
// the same access check as the other clients' endpoints and the same router
// middleware as every route (error bodies, JSON bodies, admission, CORS,
// metrics), and so answers what the API would. What it leaves out is
// HttpApi's generic per-request work; bench/README.md ("The lean routes")
// has what that saves.
import { Effect, Layer, Result, Schema, SchemaAST, SchemaIssue } from "effect"
import { HttpRouter, type HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiError, type HttpApiEndpoint } from "effect/http-api"
import { protectRoutes } from "../auth/http.ts"
import type { WireError } from "../domain/wireErrors.ts"
import { keepalive, liveRoom, roomServer } from "./api.ts"
import { clientAnswers } from "./clients.ts"

/** An endpoint of the API, as its definition holds it. */
type Endpoint = HttpApiEndpoint.ConstraintRequest & {
  readonly path: string
  readonly method: "GET" | "POST" | "PUT"
  readonly params: Schema.Top | undefined
  readonly payload: HttpApiEndpoint.PayloadMap
  readonly success: ReadonlySet<Schema.Top>
}

/** What the handler of an endpoint is given: its path parameters and body, decoded. */
interface LeanInput<E extends Endpoint> {
  readonly params: E["~Params"]["Type"]
  readonly payload: E["~Payload"]["Type"]
}

const annotatedStatus = (schema: Schema.Top, otherwise: number) => {
  const status = SchemaAST.resolve(schema.ast)?.["httpApiStatus"]
  return typeof status === "number" ? status : otherwise
}

/** An error of the API: `{"error": message}` with the status its class declares. */
const errorResponse = (e: WireError) =>
  HttpServerResponse.jsonUnsafe({ error: e.error }, { status: annotatedStatus(e.constructor as unknown as Schema.Top, 500) })

const schemaError = (kind: "Params" | "Payload", cause: Schema.SchemaError) => Effect.die(new HttpApiError.HttpApiSchemaError({ kind, cause }))

// The API's own words for a body that is not JSON.
const notJson = new Schema.SchemaError(new SchemaIssue.InvalidValue({ message: "Expected a valid JSON body" }))

// As the API decodes: a part that does not decode is its schema error, which
// the error bodies answer 400 naming the field.
const decoder = (kind: "Params" | "Payload", schema: Schema.Top | undefined) => {
  if (schema === undefined) return (_: unknown) => Effect.succeed(undefined)
  const decode = Schema.decodeUnknownResult(schema as Schema.Codec<unknown, unknown>)
  return (input: unknown) => {
    const decoded = decode(input)
    return Result.isSuccess(decoded) ? Effect.succeed(decoded.success) : schemaError(kind, decoded.failure)
  }
}

// A JSON body, as the API reads one (the router's JSON-bodies middleware has
// already made any content type of a client route JSON); empty: undefined.
const jsonBody = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.flatMap(Effect.orDie(request.text), (text) => {
    if (text === "") return Effect.succeed(undefined)
    try {
      return Effect.succeed(JSON.parse(text) as unknown)
    } catch {
      return schemaError("Payload", notJson)
    }
  })

/** `endpoint` served by `handler`, decoded and encoded with the endpoint's own schemas. */
const leanRoute = <E extends Endpoint, R>(
  endpoint: E,
  handler: (input: LeanInput<E>) => Effect.Effect<E["~Success"]["Type"], WireError, R>
) => {
  const decodeParams = decoder("Params", endpoint.params)
  const payloadSchema = endpoint.payload.get("application/json")?.schemas[0]
  const decodePayload = decoder("Payload", payloadSchema)
  const success = [...endpoint.success][0]!
  const encode = Schema.encodeUnknownSync(success as Schema.Codec<unknown, unknown>)
  const status = annotatedStatus(success, 200)
  return HttpRouter.route(endpoint.method, endpoint.path as HttpRouter.PathInput, (request: HttpServerRequest.HttpServerRequest) =>
    Effect.gen(function*() {
      const params = yield* decodeParams(yield* HttpRouter.params)
      const payload = payloadSchema === undefined ? undefined : yield* decodePayload(yield* jsonBody(request))
      return yield* handler({ params, payload } as LeanInput<E>).pipe(
        Effect.map((answer) => HttpServerResponse.jsonUnsafe(encode(answer), { status })),
        Effect.catch((e) => Effect.succeed(errorResponse(e)))
      )
    }))
}

/** The lean routes, behind the clients' access check. */
export const LeanRoutes = HttpRouter.use(Effect.fn(function*(router) {
  const answers = yield* clientAnswers
  yield* router.addAll([
    leanRoute(roomServer, answers.roomServer),
    leanRoute(keepalive, answers.keepalive),
    leanRoute(liveRoom, answers.liveRoom)
  ])
})).pipe(Layer.provide(protectRoutes("client")))
