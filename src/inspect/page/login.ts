// Signing in at the identity provider (AUTH_ISSUER): the authorization code
// flow with PKCE (RFC 7636, S256), as a public client, the page itself as
// the redirect URI. Tokens are kept for the tab (sessionStorage) and the
// access token is refreshed with the refresh token before it expires.
// Without an issuer the page asks for a bearer token instead (api.ts).

export type LoginConfig =
  | { readonly kind: "oidc"; readonly issuer: string; readonly clientId: string; readonly scope: string }
  | { readonly kind: "token" }

/** The service writes it into the page (src/inspect/login.ts). */
export const loginConfig = (): LoginConfig => {
  const text = document.getElementById("login-config")?.textContent
  return text === undefined || text === null ? { kind: "token" } : JSON.parse(text) as LoginConfig
}

export const tokenKey = "room-orchestrator.token"
const refreshKey = "room-orchestrator.refresh"
const expiresKey = "room-orchestrator.expires"
const pendingKey = "room-orchestrator.login"

/** A token this close to its expiry is refreshed first. */
const refreshAhead = 10_000

interface Endpoints {
  readonly authorization_endpoint: string
  readonly token_endpoint: string
}

let endpoints: Promise<Endpoints> | undefined
const discover = (issuer: string): Promise<Endpoints> =>
  endpoints ??= fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, { cache: "no-store" })
    .then(async (r) => {
      if (!r.ok) throw new Error(`the identity provider's discovery document answered ${r.status}`)
      const doc = await r.json() as Partial<Endpoints>
      if (typeof doc.authorization_endpoint !== "string" || typeof doc.token_endpoint !== "string") {
        throw new Error("the identity provider's discovery document names no authorization or token endpoint")
      }
      return doc as Endpoints
    })
    .catch((e: unknown) => {
      endpoints = undefined
      throw e
    })

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

const randomText = () => base64url(crypto.getRandomValues(new Uint8Array(32)))

/** Where the provider sends the browser back: this page, without its query. */
const redirectUri = () => `${location.origin}${location.pathname}`

/** Goes to the provider's login; the browser comes back to this page with a code. */
export const startLogin = async (config: Extract<LoginConfig, { kind: "oidc" }>): Promise<void> => {
  if (crypto.subtle === undefined) {
    throw new Error("logging in needs a secure page (https, or a loopback address): paste a token instead")
  }
  const { authorization_endpoint } = await discover(config.issuer)
  const verifier = randomText()
  const state = randomText()
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))))
  sessionStorage.setItem(pendingKey, JSON.stringify({ verifier, state, back: location.search }))
  const url = new URL(authorization_endpoint)
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256"
  }).toString()
  location.assign(url.toString())
}

interface TokenAnswer {
  readonly access_token?: string
  readonly refresh_token?: string
  readonly expires_in?: number
  readonly error?: string
  readonly error_description?: string
}

const keep = (answer: TokenAnswer) => {
  sessionStorage.setItem(tokenKey, answer.access_token!)
  if (answer.refresh_token !== undefined) sessionStorage.setItem(refreshKey, answer.refresh_token)
  else sessionStorage.removeItem(refreshKey)
  if (typeof answer.expires_in === "number") sessionStorage.setItem(expiresKey, String(Date.now() + answer.expires_in * 1000))
  else sessionStorage.removeItem(expiresKey)
}

const tokenRequest = async (config: Extract<LoginConfig, { kind: "oidc" }>, form: Record<string, string>): Promise<TokenAnswer> => {
  const { token_endpoint } = await discover(config.issuer)
  const response = await fetch(token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ ...form, client_id: config.clientId }).toString()
  })
  const answer = await response.json().catch(() => ({})) as TokenAnswer
  if (!response.ok || typeof answer.access_token !== "string") {
    throw new Error(`the identity provider refused: ${answer.error_description ?? answer.error ?? response.status}`)
  }
  return answer
}

/**
 * Finishes a login when the provider sent the browser back here (a `code`
 * or an `error` with our `state`): trades the code for tokens and puts the
 * page's own query back. Answers a problem to show, or undefined.
 */
export const finishLogin = async (config: LoginConfig): Promise<string | undefined> => {
  const query = new URLSearchParams(location.search)
  const state = query.get("state")
  if (config.kind !== "oidc" || state === null || (!query.has("code") && !query.has("error"))) return undefined
  const pending = JSON.parse(sessionStorage.getItem(pendingKey) ?? "null") as { verifier: string; state: string; back: string } | null
  sessionStorage.removeItem(pendingKey)
  history.replaceState(null, "", `${location.pathname}${pending?.back ?? ""}`)
  if (pending === null || pending.state !== state) return "That login answer was not for this page: log in again."
  const error = query.get("error")
  if (error !== null) return `The identity provider refused the login: ${query.get("error_description") ?? error}`
  try {
    keep(await tokenRequest(config, { grant_type: "authorization_code", code: query.get("code")!, redirect_uri: redirectUri(), code_verifier: pending.verifier }))
    return undefined
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}

/** Trades the refresh token for a new access token; false when there is none or it was refused. */
export const refresh = async (config: LoginConfig): Promise<boolean> => {
  const token = sessionStorage.getItem(refreshKey)
  if (config.kind !== "oidc" || token === null) return false
  try {
    keep(await tokenRequest(config, { grant_type: "refresh_token", refresh_token: token }))
    return true
  } catch {
    sessionStorage.removeItem(refreshKey)
    return false
  }
}

let refreshing: Promise<boolean> | undefined
/** Refreshes the access token first when it is about to expire (one refresh however many callers). */
export const fresh = async (config: LoginConfig): Promise<void> => {
  const expires = Number(sessionStorage.getItem(expiresKey) ?? "NaN")
  if (config.kind !== "oidc" || Number.isNaN(expires) || Date.now() < expires - refreshAhead) return
  refreshing ??= refresh(config).finally(() => {
    refreshing = undefined
  })
  await refreshing
}

export const forget = () => {
  for (const key of [tokenKey, refreshKey, expiresKey]) sessionStorage.removeItem(key)
}

/** Who the stored token says the user is (read, not verified: the service verifies it). */
export const signedIn = (): { readonly name: string; readonly roles: ReadonlyArray<string> } | undefined => {
  const token = sessionStorage.getItem(tokenKey)
  if (token === null) return undefined
  try {
    const payload = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as {
      preferred_username?: string
      sub?: string
      realm_access?: { roles?: Array<string> }
    }
    return { name: payload.preferred_username ?? payload.sub ?? "token", roles: payload.realm_access?.roles ?? [] }
  } catch {
    return { name: "token", roles: [] }
  }
}
