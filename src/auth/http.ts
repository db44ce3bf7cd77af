// Access on HTTP: the API's access middleware (client, admin, gateway events,
// and GET /servers, which follows /metrics) and a guard for plain routes
// (/metrics when METRICS_AUTH=true, the live stream). Refusals are JSON: 401 with WWW-Authenticate, 403, or
// 503 when the identity provider cannot be reached.
import { Effect, Exit, Layer } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { ServiceUnavailable } from "../domain/wireErrors.ts"
import { AppConfig } from "../config.ts"
import { AdminAccess, ClientAccess, Forbidden, GatewayAccess, MetricsAccess, ShidurAccess, TooManyRequestsError, UnauthorizedError } from "./access.ts"
import { Authenticator } from "./authenticator.ts"
import { type Access, CurrentPrincipal, type Principal } from "./principal.ts"

type Refusal = UnauthorizedError | Forbidden | TooManyRequestsError | ServiceUnavailable

const check = (authenticator: typeof Authenticator.Service, access: Access) => {
  // The API tries each declared scheme in turn until one lets the request
  // through; the decision is taken once per request and given to every try.
  const decided = new WeakMap<object, Exit.Exit<Principal, Refusal>>()
  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const known = decided.get(request)
    if (known !== undefined) return yield* known
    const source = request.remoteAddress._tag === "Some" ? request.remoteAddress.value : "unknown"
    const exit = yield* Effect.exit(authenticator.authorize(request.headers.authorization, access, source).pipe(
      Effect.catchTags({
        Unauthenticated: (e) => Effect.fail(new UnauthorizedError({ error: e.message, challenge: e.challenge })),
        TooManyAttempts: (e) => Effect.fail(new TooManyRequestsError({ error: e.message, retryAfter: e.retryAfter })),
        NotPermitted: (e) => Effect.fail(new Forbidden({ error: e.message })),
        IdentityProviderUnavailable: (e) => Effect.fail(new ServiceUnavailable({ error: e.message })),
        DatabaseUnavailable: (e) => Effect.fail(new ServiceUnavailable({ error: e.message }))
      })
    ))
    decided.set(request, exit)
    return yield* exit
  })
}

const guard = (access: Access) =>
  Effect.gen(function*() {
    const decide = check(yield* Authenticator, access)
    return <A, E, R>(httpEffect: Effect.Effect<A, E, R>) =>
      Effect.flatMap(decide, (principal) => Effect.provideService(httpEffect, CurrentPrincipal, principal))
  })

export const ClientAccessLayer = Layer.effect(ClientAccess, Effect.map(guard("client"), (run) => ({ bearer: run, basic: run })))

export const ShidurAccessLayer = Layer.effect(ShidurAccess, Effect.map(guard("shidur"), (run) => ({ bearer: run, basic: run })))

export const AdminAccessLayer = Layer.effect(AdminAccess, Effect.map(guard("admin"), (run) => ({ bearer: run, basic: run })))

// Gateways and the service user are never refused for a missing role.
export const GatewayAccessLayer = Layer.effect(GatewayAccess, Effect.map(guard("events"), (run) => ({
  basic: <A, E, R>(httpEffect: Effect.Effect<A, E, R>) =>
    Effect.catchIf(run(httpEffect), (e): e is Forbidden => e instanceof Forbidden, Effect.die)
})))

// Open unless METRICS_AUTH=true, like /metrics.
export const MetricsAccessLayer = Layer.effect(MetricsAccess, Effect.gen(function*() {
  if (!(yield* AppConfig).metricsAuth) {
    const open = <A, E, R>(httpEffect: Effect.Effect<A, E, R>) => httpEffect
    return { bearer: open, basic: open }
  }
  const run = yield* guard("admin")
  return { bearer: run, basic: run }
}))

/** The access middlewares of the API. */
export const accessLayer = Layer.mergeAll(ClientAccessLayer, ShidurAccessLayer, AdminAccessLayer, GatewayAccessLayer, MetricsAccessLayer)

const refusal = (e: Refusal) => {
  if (e instanceof UnauthorizedError) {
    return HttpServerResponse.jsonUnsafe({ error: e.error }, { status: 401, headers: { "www-authenticate": e.challenge } })
  }
  if (e instanceof TooManyRequestsError) {
    return HttpServerResponse.jsonUnsafe({ error: e.error }, { status: 429, headers: { "retry-after": String(e.retryAfter) } })
  }
  return HttpServerResponse.jsonUnsafe({ error: e.error }, { status: e instanceof Forbidden ? 403 : 503 })
}

/** Guards plain router routes (those outside the API definition) with `access`. */
export const protectRoutes = (access: Access) =>
  HttpRouter.middleware(Effect.gen(function*() {
    const decide = check(yield* Authenticator, access)
    return (httpEffect) =>
      Effect.matchEffect(decide, {
        onFailure: (e) => Effect.succeed(refusal(e)),
        onSuccess: () => httpEffect
      })
  })).layer
