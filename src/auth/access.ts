// What the API declares about access (no server code): the security schemes
// shown in the OpenAPI document, the 401/403 errors, and the middleware each
// group of routes carries.
import { Schema } from "effect"
import { HttpApiMiddleware, HttpApiSchema, HttpApiSecurity, OpenApi } from "effect/http-api"
import { ServiceUnavailable } from "../domain/wireErrors.ts"
import { CurrentPrincipal } from "./principal.ts"

/** bcrypt reads at most 72 bytes of a password; longer ones are refused rather than cut. */
export const maxPasswordBytes = 72

/** A gateway's events password, as an admin sets it (write-only: stored as a bcrypt hash, never returned). */
export const EventsPassword = Schema.String.check(
  Schema.isNonEmpty(),
  Schema.makeFilter((s: string) => new TextEncoder().encode(s).length <= maxPasswordBytes || `must be at most ${maxPasswordBytes} bytes`, {
    toJsonSchema: () => ({ maxLength: maxPasswordBytes })
  })
).annotate({ description: `Write-only; at most ${maxPasswordBytes} bytes (stored as a bcrypt hash)` })

/**
 * `self` answered as `{"error"}` with `status` and one header, `header`, that
 * carries the rest of the error (`carry` reads it from the error and back).
 */
const withHeader = <S extends Schema.Top & { readonly Type: { readonly error: string } }, H extends string, V extends Schema.Top>(
  self: S,
  response: { readonly status: number; readonly description: string; readonly header: H; readonly value: V },
  carry: { readonly decode: (error: string, value: V["Type"]) => S["Type"]; readonly encode: (e: S["Type"]) => V["Type"] }
) =>
  self.pipe(HttpApiSchema.encodeToWithHeaders<S, Schema.Struct<{ error: typeof Schema.String }>, Record<H, V>>({
    body: Schema.Struct({ error: Schema.String }).annotate({ httpApiStatus: response.status, description: response.description }),
    headers: { [response.header]: response.value } as Record<H, V>
  }, {
    decode: ({ body, headers }) => carry.decode(body.error, (headers as Record<H, V["Type"]>)[response.header]),
    encode: (e) => ({ body: { error: e.error }, headers: { [response.header]: carry.encode(e) } as Schema.Struct.Type<Record<H, V>> })
  }))

/** No credential, or one that does not check out. */
export class UnauthorizedError extends Schema.Error<UnauthorizedError>("Unauthorized")({
  error: Schema.String,
  challenge: Schema.String
}) {}

/** 401 `{"error"}` with the `WWW-Authenticate` challenge of the route. */
export const Unauthorized = withHeader(UnauthorizedError, {
  status: 401,
  description: "No credential, or one that is wrong, expired or not trusted",
  header: "www-authenticate",
  value: Schema.String
}, { decode: (error, challenge) => new UnauthorizedError({ error, challenge }), encode: (e) => e.challenge })

/** Too many failed logins from one address for one user name. */
export class TooManyRequestsError extends Schema.Error<TooManyRequestsError>("TooManyRequests")({
  error: Schema.String,
  retryAfter: Schema.Number
}) {}

/** 429 `{"error"}` with `Retry-After`. */
export const TooManyRequests = withHeader(TooManyRequestsError, {
  status: 429,
  description: "Too many failed logins from this address for this user name; the password is not checked until Retry-After seconds pass",
  header: "retry-after",
  value: Schema.NumberFromString
}, { decode: (error, retryAfter) => new TooManyRequestsError({ error, retryAfter }), encode: (e) => e.retryAfter })

export class Forbidden extends Schema.Error<Forbidden>("Forbidden")({ error: Schema.String }, {
  httpApiStatus: 403,
  description: "A valid credential without the role this route needs"
}) {}

const bearer = HttpApiSecurity.bearer.pipe(
  HttpApiSecurity.annotate(OpenApi.Format, "JWT"),
  HttpApiSecurity.annotate(
    OpenApi.Description,
    "An OIDC access token (roles in realm_access.roles), or an HS256 token from `npm run token`"
  )
)

const basic = HttpApiSecurity.basic.pipe(
  HttpApiSecurity.annotate(
    OpenApi.Description,
    "`service:<SERVICE_PASSWORD>` (any route), or `<gateway name>:<its events password>` on POST /event"
  )
)

/** Client routes: any `gxy_*` realm role, or the service user. */
export class ClientAccess extends HttpApiMiddleware.Service<ClientAccess, { provides: CurrentPrincipal }>()(
  "room-orchestrator/ClientAccess",
  { security: { bearer, basic }, error: [Unauthorized, Forbidden, TooManyRequests, ServiceUnavailable] }
) {}

/** Changing a room's flags (gxydb-api's PUT /rooms/:id): `gxy_shidur`, an admin role, or the service user. */
export class ShidurAccess extends HttpApiMiddleware.Service<ShidurAccess, { provides: CurrentPrincipal }>()(
  "room-orchestrator/ShidurAccess",
  { security: { bearer, basic }, error: [Unauthorized, Forbidden, TooManyRequests, ServiceUnavailable] }
) {}

/** Admin routes: `gxy_admin` or `gxy_root`, or the service user. */
export class AdminAccess extends HttpApiMiddleware.Service<AdminAccess, { provides: CurrentPrincipal }>()(
  "room-orchestrator/AdminAccess",
  { security: { bearer, basic }, error: [Unauthorized, Forbidden, TooManyRequests, ServiceUnavailable] }
) {}

/** POST /event: the posting gateway's events credentials, or the service user. */
export class GatewayAccess extends HttpApiMiddleware.Service<GatewayAccess, { provides: CurrentPrincipal }>()(
  "room-orchestrator/GatewayAccess",
  { security: { basic }, error: [Unauthorized, TooManyRequests, ServiceUnavailable] }
) {}

/** GET /servers: open, or admin access with METRICS_AUTH=true (the rule of /metrics). */
export class MetricsAccess extends HttpApiMiddleware.Service<MetricsAccess>()(
  "room-orchestrator/MetricsAccess",
  { security: { bearer, basic }, error: [Unauthorized, Forbidden, TooManyRequests, ServiceUnavailable] }
) {}
