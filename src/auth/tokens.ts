// Bearer tokens: OIDC access tokens checked against the issuer's key set
// (discovered, cached and refreshed by jose), or HS256 tokens signed with
// AUTH_JWT_SECRET. Issuer, expiry, signature, algorithm and (when set) the
// audience are checked; roles come from `realm_access.roles` as in gxydb-api.
import { Context, Duration, Effect, Layer, Schema } from "effect"
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTVerifyGetKey } from "jose"
import { AppConfig, type Settings } from "../config.ts"
import type { Principal } from "./principal.ts"

/** The token is missing, malformed, expired, or not signed by whom we trust. */
export class InvalidToken extends Schema.TaggedError<InvalidToken>()("InvalidToken", {
  message: Schema.String
}) {}

/** The identity provider (its discovery document or key set) cannot be reached. */
export class IdentityProviderUnavailable extends Schema.TaggedError<IdentityProviderUnavailable>()(
  "IdentityProviderUnavailable",
  { message: Schema.String }
) {}

export type User = Extract<Principal, { kind: "user" }>

// Only signature algorithms: `none` and anything symmetric on a key set are refused.
const asymmetric = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"]

const clockTolerance = 5
const fetchTimeout = Duration.seconds(5)

const Claims = Schema.Struct({
  sub: Schema.optional(Schema.String),
  realm_access: Schema.optional(Schema.Struct({ roles: Schema.optional(Schema.Array(Schema.String)) }))
})

const Discovery = Schema.Struct({ issuer: Schema.String, jwks_uri: Schema.String })

// Marks a failed key-set fetch, so it is told apart from a bad token.
class KeySetUnreachable extends Error {}

const fetchKeySet: typeof fetch = (input, init) =>
  fetch(input, init).catch((cause: unknown) => {
    throw new KeySetUnreachable(cause instanceof Error ? cause.message : String(cause))
  })

const tokenError = (e: unknown): InvalidToken | IdentityProviderUnavailable => {
  if (e instanceof KeySetUnreachable || e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid) {
    return new IdentityProviderUnavailable({ message: `identity provider unavailable: key set: ${e.message}` })
  }
  if (e instanceof errors.JWTExpired) return new InvalidToken({ message: "invalid token: expired" })
  if (e instanceof errors.JWTClaimValidationFailed) {
    return new InvalidToken({ message: `invalid token: ${e.claim === "exp" ? "no expiry (exp)" : e.message}` })
  }
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) {
    return new InvalidToken({ message: "invalid token: algorithm not accepted" })
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return new InvalidToken({ message: "invalid token: bad signature" })
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) {
    return new InvalidToken({ message: "invalid token: not signed by a key of the issuer" })
  }
  // jose's generic error is a key-set answer that is not a key set (not 200, not JSON).
  if (e instanceof errors.JOSEError && e.code === "ERR_JOSE_GENERIC") {
    return new IdentityProviderUnavailable({ message: `identity provider unavailable: key set: ${e.message}` })
  }
  return new InvalidToken({ message: "invalid token: malformed" })
}

/** The key-set URL named by the issuer's discovery document. */
const discover = (issuer: string) =>
  Effect.gen(function*() {
    const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`
    const unavailable = (reason: string) =>
      new IdentityProviderUnavailable({ message: `identity provider unavailable: ${url}: ${reason}` })
    const body = yield* Effect.tryPromise({
      try: async (signal) => {
        const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(Duration.toMillis(fetchTimeout))]) })
        if (response.status !== 200) throw new Error(`status ${response.status}`)
        return await response.json() as unknown
      },
      catch: (e) => unavailable(e instanceof Error ? e.message : String(e))
    })
    const document = yield* Schema.decodeUnknownEffect(Discovery)(body).pipe(
      Effect.mapError(() => unavailable("not a discovery document (issuer, jwks_uri)"))
    )
    // OpenID Connect Discovery §4.3: the document must name the issuer it was asked for.
    if (document.issuer !== issuer) return yield* unavailable(`it names the issuer ${document.issuer}, not AUTH_ISSUER`)
    if (!URL.canParse(document.jwks_uri)) return yield* unavailable("jwks_uri is not a URL")
    return document.jwks_uri
  })

export interface TokensShape {
  /** How tokens are checked: `hs256`, `oidc`, or `none` (no bearer token is accepted). */
  readonly kind: "hs256" | "oidc" | "none"
  /** A bearer token → its user, or why not. Never logs or echoes the token. */
  readonly verifyBearer: (token: string) => Effect.Effect<User, InvalidToken | IdentityProviderUnavailable>
  /** Finds the issuer's key set now (at start-up), rather than on the first token. */
  readonly warmUp: Effect.Effect<void, IdentityProviderUnavailable>
}

export class Tokens extends Context.Service<Tokens, TokensShape>()("room-orchestrator/Tokens") {
  static readonly layer = Layer.effect(Tokens, Effect.gen(function*() {
    return makeTokens(yield* AppConfig)
  }))
}

export const makeTokens = (settings: Settings): TokensShape => {
  const claimChecks = {
    clockTolerance,
    requiredClaims: ["exp"],
    ...(settings.authIssuer !== undefined ? { issuer: settings.authIssuer } : {}),
    ...(settings.authAudience !== undefined ? { audience: settings.authAudience } : {})
  }

  const toUser = (payload: unknown) =>
    Schema.decodeUnknownEffect(Claims)(payload).pipe(
      Effect.map((claims): User => ({ kind: "user", subject: claims.sub ?? "(no sub)", roles: claims.realm_access?.roles ?? [] })),
      Effect.mapError(() => new InvalidToken({ message: "invalid token: sub must be a string and realm_access.roles a list of strings" }))
    )

  const verifyWith = (key: Uint8Array | JWTVerifyGetKey, algorithms: Array<string>) => (token: string) =>
    Effect.tryPromise({
      try: () => jwtVerify(token, key as JWTVerifyGetKey, { ...claimChecks, algorithms }),
      catch: tokenError
    }).pipe(Effect.flatMap((result) => toUser(result.payload)))

  if (settings.authJwtSecret !== undefined) {
    const verify = verifyWith(new TextEncoder().encode(settings.authJwtSecret), ["HS256"])
    return { kind: "hs256", verifyBearer: verify, warmUp: Effect.void }
  }

  const issuer = settings.authIssuer
  if (issuer === undefined) {
    const refuse = Effect.fail(new InvalidToken({ message: "bearer tokens are not accepted here (no AUTH_ISSUER or AUTH_JWT_SECRET)" }))
    return { kind: "none", verifyBearer: () => refuse, warmUp: Effect.void }
  }

  // The key set is found once (AUTH_JWKS_URL, or discovery); a failed
  // discovery is tried again on the next token.
  let keySet: ReturnType<typeof createRemoteJWKSet> | undefined
  const remoteKeySet = (url: string) =>
    createRemoteJWKSet(new URL(url), {
      cooldownDuration: settings.authJwksCooldown,
      timeoutDuration: Duration.toMillis(fetchTimeout),
      [customFetch]: fetchKeySet
    })
  const keys = Effect.suspend(() => {
    if (keySet !== undefined) return Effect.succeed(keySet)
    const url = settings.authJwksUrl !== undefined ? Effect.succeed(settings.authJwksUrl) : discover(issuer)
    return Effect.map(url, (u) => (keySet ??= remoteKeySet(u)))
  })

  return {
    kind: "oidc",
    verifyBearer: (token) => Effect.flatMap(keys, (k) => verifyWith(k, asymmetric)(token)),
    warmUp: Effect.flatMap(keys, (k) =>
      Effect.tryPromise({
        try: () => k.reload(),
        catch: (e) => new IdentityProviderUnavailable({ message: `identity provider unavailable: key set: ${e instanceof Error ? e.message : String(e)}` })
      }))
  }
}
