// Who the caller is, from an Authorization header, and whether they may use a
// route: Bearer tokens for people, Basic `service:<SERVICE_PASSWORD>` for
// machine clients, Basic `<gateway>:<events password>` for gateways posting
// events. With authentication off every caller is `anonymous`.
import { Clock, Context, Effect, Layer, Result, Schema } from "effect"
import { authMode, checkExposure, AppConfig, isLoopback } from "../config.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import { countLogin } from "../metrics/events.ts"
import { LoginThrottle } from "./loginThrottle.ts"
import { Passwords } from "./passwords.ts"
import { type Access, missingRole, permits, type Principal } from "./principal.ts"
import { type IdentityProviderUnavailable, type InvalidToken, Tokens } from "./tokens.ts"

/** No credential, or one that does not check out; `challenge` is the WWW-Authenticate value. */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  message: Schema.String,
  challenge: Schema.String
}) {}

/** Too many failed logins from this address for this user name: refused without checking the password. */
export class TooManyAttempts extends Schema.TaggedError<TooManyAttempts>()("TooManyAttempts", {
  message: Schema.String,
  /** Seconds until the next attempt is checked. */
  retryAfter: Schema.Number
}) {}

/** A valid credential without the right to this route. */
export class NotPermitted extends Schema.TaggedError<NotPermitted>()("NotPermitted", {
  message: Schema.String
}) {}

const realm = `realm="room-orchestrator"`

type Credential =
  | { readonly scheme: "bearer"; readonly token: string }
  | { readonly scheme: "basic"; readonly username: string; readonly password: string }
  | { readonly scheme: "unreadable"; readonly reason: string }

const base64 = /^[A-Za-z0-9+/]+={0,2}$/

/** Reads `Authorization: Bearer …` or `Basic …` (schemes in any case, RFC 9110 §11.1). */
export const readAuthorization = (header: string): Credential => {
  const m = /^([A-Za-z]+) +(\S+) *$/.exec(header)
  if (!m) return { scheme: "unreadable", reason: "malformed Authorization header" }
  const scheme = m[1]!.toLowerCase()
  if (scheme === "bearer") return { scheme: "bearer", token: m[2]! }
  if (scheme !== "basic") return { scheme: "unreadable", reason: `unsupported authorization scheme ${m[1]}` }
  const decoded = base64.test(m[2]!) ? Buffer.from(m[2]!, "base64").toString("utf8") : ""
  const colon = decoded.indexOf(":")
  if (colon < 0) return { scheme: "unreadable", reason: "malformed Basic credentials (expected base64 of user:password)" }
  return { scheme: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

export interface AuthenticatorShape {
  /** `on`: credentials required; `off`: AUTH=none; `unset`: no setting (loopback only). */
  readonly mode: "on" | "off" | "unset"
  /** A bearer token → its user (anyone when authentication is off), for HTTP and real-time handshakes alike. */
  readonly verifyBearer: (token: string) => Effect.Effect<Principal, InvalidToken | IdentityProviderUnavailable>
  /**
   * The caller named by an Authorization header, when it may use a route
   * needing `access`; `source` is the client's address (failed Basic logins
   * are throttled per address and user name).
   */
  readonly authorize: (
    authorization: string | undefined,
    access: Access,
    source?: string
  ) => Effect.Effect<Principal, Unauthenticated | NotPermitted | TooManyAttempts | IdentityProviderUnavailable | DatabaseUnavailable>
}

export class Authenticator extends Context.Service<Authenticator, AuthenticatorShape>()("room-orchestrator/Authenticator") {
  static readonly layer = Layer.effect(Authenticator, Effect.gen(function*() {
    const config = yield* AppConfig
    const tokens = yield* Tokens
    const passwords = yield* Passwords
    const mode = authMode(config)
    const listen = `${config.listen.host}:${config.listen.port}`
    const hasService = config.servicePassword !== undefined
    const anonymous: Principal = { kind: "anonymous" }

    // However the service is started, it never serves a public address open by accident.
    yield* Effect.fromResult(Result.map(checkExposure(config), () => undefined))
    if (mode === "off") {
      yield* (isLoopback(config.listen.host)
        ? Effect.logInfo("Authentication is off (AUTH=none)")
        : Effect.logWarning(`Authentication is off (AUTH=none) on ${listen}: anyone who reaches it can change gateways, rooms and sessions`))
    } else if (mode === "unset") {
      yield* Effect.logInfo("Authentication is off: no AUTH_ISSUER, AUTH_JWT_SECRET or SERVICE_PASSWORD; serving this machine only")
    } else {
      yield* Effect.logInfo("Authentication is on").pipe(Effect.annotateLogs({
        tokens: tokens.kind === "oidc" ? `oidc ${config.authIssuer}` : tokens.kind,
        audience: config.authAudience ?? "(not checked)",
        service_user: hasService ? "on" : "off",
        metrics: config.metricsAuth ? "protected" : "public"
      }))
      yield* tokens.warmUp.pipe(
        Effect.catch((e) => Effect.logWarning(`${e.message}; tried again on the next token`)),
        Effect.forkScoped
      )
    }

    const challenge = (access: Access, bearerSent: boolean) => {
      if (access === "events") return `Basic ${realm}`
      const offered: Array<string> = []
      if (tokens.kind !== "none") offered.push(bearerSent ? `Bearer ${realm}, error="invalid_token"` : `Bearer ${realm}`)
      // A browser that sent a token is not offered Basic: it would show a login dialog.
      if (hasService && !bearerSent) offered.push(`Basic ${realm}`)
      return offered.length > 0 ? offered.join(", ") : `Basic ${realm}`
    }

    const required = (access: Access) =>
      access === "events"
        ? "authentication required: send Basic credentials <gateway name>:<events password>"
        : `authentication required: send Authorization: Bearer <token>${hasService ? " (machines: Basic service:<password>)" : ""}`

    const service = (password: string, fail: (m: string) => Unauthenticated) =>
      passwords.isServicePassword(password) ? Effect.succeed<Principal>({ kind: "service" }) : Effect.fail(fail("wrong credentials for the service user"))

    const throttle = new LoginThrottle(config.loginFailuresPerMinute)

    // A Basic credential is checked only while its address and user name
    // have failed less than the budget; each failure is logged and counted.
    const basic = <E>(source: string, user: string, check: Effect.Effect<Principal, E>) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const wait = throttle.retryAfter(source, user, now)
        if (wait > 0) {
          yield* countLogin("throttled")
          return yield* new TooManyAttempts({
            message: `too many failed logins for ${user} from this address: try again in ${Math.ceil(wait / 1000)} s`,
            retryAfter: Math.ceil(wait / 1000)
          })
        }
        return yield* check.pipe(Effect.tapError(() =>
          Effect.gen(function*() {
            const failures = throttle.failed(source, user, now)
            yield* countLogin("checked")
            yield* Effect.logWarning("Failed login").pipe(Effect.annotateLogs({ user, source, failures_this_minute: failures }))
          })
        ))
      })

    const authorize = (header: string | undefined, access: Access, source = "unknown") =>
      Effect.gen(function*() {
        if (mode !== "on") return anonymous
        const credential = header === undefined || header.trim() === "" ? undefined : readAuthorization(header)
        const unauthenticated = (message: string) =>
          new Unauthenticated({ message, challenge: challenge(access, credential?.scheme === "bearer") })
        if (credential === undefined) return yield* unauthenticated(required(access))
        if (credential.scheme === "unreadable") return yield* unauthenticated(credential.reason)

        if (access === "events") {
          if (credential.scheme !== "basic") return yield* unauthenticated(required(access))
          const { username, password } = credential
          if (username === "service" && hasService) return yield* basic(source, username, service(password, unauthenticated))
          return yield* basic(
            source,
            username,
            Effect.flatMap(passwords.verify(username, password), (right) =>
              right ? Effect.succeed<Principal>({ kind: "gateway", gateway: username }) : Effect.fail(unauthenticated("wrong gateway credentials")))
          )
        }

        if (credential.scheme === "basic") {
          if (credential.username !== "service" || !hasService) return yield* unauthenticated("Basic credentials are only for the service user")
          return yield* basic(source, credential.username, service(credential.password, unauthenticated))
        }
        const user = yield* tokens.verifyBearer(credential.token).pipe(
          Effect.catchTag("InvalidToken", (e) => Effect.fail(unauthenticated(e.message)))
        )
        if (!permits(user, access)) return yield* new NotPermitted({ message: missingRole(access) })
        return user
      })

    return {
      mode,
      verifyBearer: (token) => (mode === "on" ? tokens.verifyBearer(token) : Effect.succeed(anonymous)),
      authorize
    }
  }))
}

/** The authenticator with what it needs besides the gateway store. */
export const authLayer = Authenticator.layer.pipe(Layer.provide(Layer.mergeAll(Tokens.layer, Passwords.layer)))
