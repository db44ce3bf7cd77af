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
 * What a route needs: `client` any `gxy_*` realm role, `shidur` `gxy_shidur`
 * (the broadcast operators' apps, as gxydb-api's PUT /rooms/:id) or an admin
 * role, `admin` `gxy_admin` or `gxy_root`, `events` the posting gateway's own
 * credentials. The service user passes every check, as in gxydb-api.
 */
export type Access = "client" | "shidur" | "admin" | "events"

export const adminRoles: ReadonlyArray<string> = ["gxy_admin", "gxy_root"]
const shidurRoles: ReadonlyArray<string> = ["gxy_shidur", ...adminRoles]

export const permits = (principal: Principal, access: Access): boolean => {
  switch (principal.kind) {
    case "anonymous":
    case "service":
      return true
    case "gateway":
      return access === "events"
    case "user":
      switch (access) {
        case "admin":
          return principal.roles.some((r) => adminRoles.includes(r))
        case "shidur":
          return principal.roles.some((r) => shidurRoles.includes(r))
        case "client":
          return principal.roles.some((r) => r.startsWith("gxy_"))
        case "events":
          return false
      }
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
    : access === "shidur"
    ? "forbidden: this route needs the role gxy_shidur, gxy_admin or gxy_root"
    : access === "client"
    ? "forbidden: this route needs a gxy_* role"
    : "forbidden: this route takes a gateway's events credentials"
