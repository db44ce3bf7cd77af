// An identity provider a browser can log in at, for the inspector's login
// test: discovery, a key set, an authorization endpoint with a sign-in page,
// and a token endpoint that checks PKCE (S256) and the redirect URI as
// Keycloak does, and answers refresh grants. Tokens are signed like
// Keycloak's (realm_access.roles). Closed with the scope.
import { Effect } from "effect"
import { exportJWK } from "jose"
import { createHash, randomBytes } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { type KeyPair, signWith } from "../support/identity.ts"

export interface LoginProvider {
  readonly issuer: string
  /** Query strings the authorization endpoint was opened with. */
  readonly authorizations: Array<URLSearchParams>
  /** Token requests, as `grant_type` and the outcome (`issued`, or why refused). */
  readonly tokenRequests: Array<string>
}

export interface LoginOptions {
  readonly clientId: string
  readonly audience: string
  readonly roles: ReadonlyArray<string>
  /** Seconds an access token lasts. */
  readonly expiresIn: number
}

const base64url = (b: Buffer) => b.toString("base64url")

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = ""
    req.on("data", (chunk: Buffer) => (body += chunk.toString()))
    req.on("end", () => resolve(body))
  })

export const loginProvider = (key: KeyPair, options: LoginOptions) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const jwk = { ...(await exportJWK(key.publicKey)), kid: key.kid, use: "sig", alg: key.alg }
      const authorizations: Array<URLSearchParams> = []
      const tokenRequests: Array<string> = []
      const codes = new Map<string, { challenge: string; redirectUri: string; clientId: string }>()
      const refreshTokens = new Set<string>()
      let issuer = ""

      const json = (res: ServerResponse, status: number, body: unknown, origin?: string) => {
        res.writeHead(status, {
          "content-type": "application/json",
          ...(origin === undefined ? {} : { "access-control-allow-origin": origin })
        })
        res.end(JSON.stringify(body))
      }

      const issue = async () => {
        const refresh = base64url(randomBytes(24))
        refreshTokens.add(refresh)
        const access = await Effect.runPromise(signWith(key, {
          issuer,
          audience: options.audience,
          roles: options.roles,
          expiresIn: options.expiresIn,
          claims: { preferred_username: "alice", azp: options.clientId }
        }))
        return { access_token: access, token_type: "Bearer", expires_in: options.expiresIn, refresh_token: refresh }
      }

      const server = createServer((req, res) => {
        const url = new URL(req.url ?? "/", issuer)
        const origin = req.headers.origin
        const path = url.pathname.replace("/realms/test", "")
        if (req.method === "OPTIONS") {
          res.writeHead(204, { "access-control-allow-origin": origin ?? "*", "access-control-allow-headers": "content-type", "access-control-allow-methods": "POST" })
          return res.end()
        }
        if (path === "/.well-known/openid-configuration") {
          return json(res, 200, {
            issuer,
            jwks_uri: `${issuer}/protocol/openid-connect/certs`,
            authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
            token_endpoint: `${issuer}/protocol/openid-connect/token`,
            code_challenge_methods_supported: ["S256"]
          }, "*")
        }
        if (path === "/protocol/openid-connect/certs") return json(res, 200, { keys: [jwk] })
        if (path === "/protocol/openid-connect/auth") {
          authorizations.push(url.searchParams)
          const q = url.searchParams
          const back = new URL(q.get("redirect_uri") ?? "about:blank")
          if (q.get("client_id") !== options.clientId || q.get("response_type") !== "code" || q.get("code_challenge_method") !== "S256") {
            res.writeHead(400, { "content-type": "text/plain" })
            return res.end("bad authorization request")
          }
          const code = base64url(randomBytes(16))
          codes.set(code, { challenge: q.get("code_challenge") ?? "", redirectUri: back.toString(), clientId: q.get("client_id")! })
          back.search = new URLSearchParams({ code, state: q.get("state") ?? "" }).toString()
          res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
          return res.end(`<!doctype html><title>Sign in</title><link rel="icon" href="data:,"><h1>Test realm</h1><a id="sign-in" href="${back.toString().replace(/&/g, "&amp;")}">Sign in as alice</a>`)
        }
        if (path === "/protocol/openid-connect/token" && req.method === "POST") {
          void readBody(req).then(async (text) => {
            const form = new URLSearchParams(text)
            const grant = form.get("grant_type") ?? "none"
            const refuse = (why: string) => {
              tokenRequests.push(`${grant}: ${why}`)
              json(res, 400, { error: "invalid_grant", error_description: why }, origin)
            }
            if (grant === "authorization_code") {
              const pending = codes.get(form.get("code") ?? "")
              codes.delete(form.get("code") ?? "")
              if (pending === undefined) return refuse("unknown code")
              if (form.get("client_id") !== pending.clientId) return refuse("another client")
              if (form.get("redirect_uri") !== pending.redirectUri) return refuse("another redirect_uri")
              const verifier = form.get("code_verifier") ?? ""
              if (base64url(createHash("sha256").update(verifier).digest()) !== pending.challenge) return refuse("PKCE verification failed")
            } else if (grant === "refresh_token") {
              if (!refreshTokens.delete(form.get("refresh_token") ?? "")) return refuse("unknown refresh token")
            } else {
              return refuse("unsupported grant")
            }
            tokenRequests.push(`${grant}: issued`)
            json(res, 200, await issue(), origin)
          })
          return
        }
        res.writeHead(404).end()
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      const address = server.address()
      issuer = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/realms/test`
      const provider: LoginProvider = { issuer, authorizations, tokenRequests }
      return { provider, server }
    }),
    ({ server }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      )
  ).pipe(Effect.map(({ provider }) => provider))
