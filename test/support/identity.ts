// A small identity provider for tests: an HTTP server with an OpenID
// discovery document and a key set of keys generated in the test, which can
// be rotated; and helpers that sign tokens the way Keycloak does.
import { Effect } from "effect"
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose"
import { createServer } from "node:http"

export type KeyPair = Awaited<ReturnType<typeof generateKeyPair>> & { readonly kid: string; readonly alg: string }

let kids = 0
export const newKey = (alg: "RS256" | "ES256" = "RS256") =>
  Effect.promise(async (): Promise<KeyPair> => ({ ...(await generateKeyPair(alg, { extractable: true })), kid: `key-${++kids}`, alg }))

export interface IdentityProvider {
  readonly issuer: string
  /** Publishes exactly these keys from now on. */
  readonly publish: (keys: ReadonlyArray<KeyPair>) => Effect.Effect<void>
  /** How many times the key set was fetched. */
  readonly fetches: () => number
}

/** The provider on a free loopback port, publishing `keys`; closed with the scope. */
export const identityProvider = (keys: ReadonlyArray<KeyPair>) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      let published: Array<object> = []
      let fetches = 0
      const publish = async (list: ReadonlyArray<KeyPair>) => {
        published = await Promise.all(list.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, use: "sig", alg: k.alg })))
      }
      const server = createServer((req, res) => {
        const base = `http://127.0.0.1:${port()}/realms/test`
        const json = (body: unknown) => {
          res.writeHead(200, { "content-type": "application/json" })
          res.end(JSON.stringify(body))
        }
        if (req.url === "/realms/test/.well-known/openid-configuration") {
          return json({ issuer: base, jwks_uri: `${base}/protocol/openid-connect/certs` })
        }
        if (req.url === "/realms/test/protocol/openid-connect/certs") {
          fetches++
          return json({ keys: published })
        }
        res.writeHead(404).end()
      })
      const port = () => {
        const address = server.address()
        return typeof address === "object" && address ? address.port : 0
      }
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      await publish(keys)
      const provider: IdentityProvider = {
        issuer: `http://127.0.0.1:${port()}/realms/test`,
        publish: (list) => Effect.promise(() => publish(list)),
        fetches: () => fetches
      }
      return { provider, server }
    }),
    ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
  ).pipe(Effect.map(({ provider }) => provider))

export interface TokenOptions {
  readonly roles?: ReadonlyArray<string>
  readonly sub?: string
  readonly issuer?: string
  readonly audience?: string
  /** Seconds from now; negative for an expired token, null for none. */
  readonly expiresIn?: number | null
  readonly claims?: JWTPayload
}

const now = () => Math.floor(Date.now() / 1000)

const build = (o: TokenOptions) => {
  let jwt = new SignJWT({ realm_access: { roles: [...(o.roles ?? [])] }, ...o.claims })
    .setSubject(o.sub ?? "alice")
    .setIssuedAt(now() - 10)
  if (o.expiresIn !== null) jwt = jwt.setExpirationTime(now() + (o.expiresIn ?? 300))
  if (o.issuer !== undefined) jwt = jwt.setIssuer(o.issuer)
  if (o.audience !== undefined) jwt = jwt.setAudience(o.audience)
  return jwt
}

/** A token signed by `key` (kid `kidOverride ?? key.kid`), as an OIDC provider issues it. */
export const signWith = (key: KeyPair, o: TokenOptions, kidOverride?: string) =>
  Effect.promise(() => build(o).setProtectedHeader({ alg: key.alg, kid: kidOverride ?? key.kid, typ: "JWT" }).sign(key.privateKey))

/** A token signed with an HS256 secret. */
export const signHs256 = (secret: string, o: TokenOptions) =>
  Effect.promise(() => build(o).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(secret)))

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

/** An unsigned token (`alg: none`) carrying valid-looking claims. */
export const unsigned = (o: TokenOptions) =>
  `${base64url({ alg: "none", typ: "JWT" })}.${
    base64url({
      realm_access: { roles: o.roles ?? [] },
      sub: o.sub ?? "mallory",
      exp: now() + 300,
      ...(o.issuer !== undefined ? { iss: o.issuer } : {}),
      ...(o.audience !== undefined ? { aud: o.audience } : {})
    })
  }.`

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`
})

export interface Answer {
  readonly status: number
  readonly body: any
  readonly headers: Headers
}

/** A request with credentials, answering status, JSON body (or text) and headers. */
export const send = (base: string) =>
(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
  Effect.promise(async (): Promise<Answer> => {
    const response = await fetch(base + path, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, headers: response.headers }
  })
