// The inspector's page as served: its HTML carries how an operator logs in.
// With AUTH_ISSUER the page signs in at the identity provider itself
// (authorization code with PKCE, as a public client); otherwise it asks
// for a bearer token when the service answers 401. Nothing secret is in it.
import { Effect } from "effect"
import { AppConfig, type Settings } from "../config.ts"
import { pageRoutes } from "../serving/page.ts"

/** The OIDC client the page logs in as when AUTH_AUDIENCE names none. */
export const defaultClientId = "room-orchestrator"

export type LoginConfig =
  | { readonly kind: "oidc"; readonly issuer: string; readonly clientId: string; readonly scope: string }
  | { readonly kind: "token" }

/**
 * OIDC against AUTH_ISSUER, as the client AUTH_AUDIENCE names (tokens it gets
 * must carry that audience anyway) or `room-orchestrator`; else a token prompt.
 */
export const loginConfig = (settings: Settings): LoginConfig =>
  settings.authIssuer === undefined
    ? { kind: "token" }
    : { kind: "oidc", issuer: settings.authIssuer, clientId: settings.authAudience ?? defaultClientId, scope: "openid" }

/** The page's HTML with its login settings as JSON (`<` escaped: it cannot end the script element). */
export const withLogin = (html: string, login: LoginConfig) =>
  html.replace(
    "</head>",
    `  <script id="login-config" type="application/json">${JSON.stringify(login).replace(/</g, "\\u003c")}</script>\n</head>`
  )

/** `GET path` (the HTML with the login settings), `path/app.js` and `path/app.css`, built once. */
export const loginPage = (path: `/${string}`, dir: string, what: string) =>
  pageRoutes(path, dir, what, Effect.gen(function*() {
    const login = loginConfig(yield* AppConfig)
    return (html: string) => withLogin(html, login)
  }))
