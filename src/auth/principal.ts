// Who is calling and what they may do: a user with realm roles (from a
// token), the service user, a gateway posting its events, or anyone when
// authentication is off.
import { Context } from "effect"

export type Principal =
  | { readonly kind: "user"; readonly subject: string; readonly roles: ReadonlyArray<string> }
  | { readonly kind: "service" }
  | { readonly kind: "gateway"; readonly gateway: string }
  | { readonly kind: "anonymous" }

/** The caller of the current request, provided by the access middleware. */
export class CurrentPrincipal extends Context.Service<CurrentPrincipal, Principal>()("room-orchestrator/CurrentPrincipal") {}

/**
 * What a route needs: `client` any `gxy_*` realm role, `admin` `gxy_admin` or
 * `gxy_root`, `events` the posting gateway's own credentials. The service
 * user passes every check, as in gxydb-api.
 */
export type Access = "client" | "admin" | "events"

export const adminRoles: ReadonlyArray<string> = ["gxy_admin", "gxy_root"]

export const permits = (principal: Principal, access: Access): boolean => {
  switch (principal.kind) {
    case "anonymous":
    case "service":
      return true
    case "gateway":
      return access === "events"
    case "user":
      return access === "admin"
        ? principal.roles.some((r) => adminRoles.includes(r))
        : access === "client" && principal.roles.some((r) => r.startsWith("gxy_"))
  }
}

/** What an audit line names as the actor. */
export const subjectOf = (principal: Principal): string => {
  switch (principal.kind) {
    case "user":
      return principal.subject
    case "gateway":
      return `gateway:${principal.gateway}`
    default:
      return principal.kind
  }
}

/** Why a valid credential is refused, in the caller's terms. */
export const missingRole = (access: Access): string =>
  access === "admin"
    ? "forbidden: this route needs the role gxy_admin or gxy_root"
    : access === "client"
    ? "forbidden: this route needs a gxy_* role"
    : "forbidden: this route takes a gateway's events credentials"
