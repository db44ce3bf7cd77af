// `npm run token -- --role gxy_admin [--role …] [--sub alice] [--ttl 1h]`:
// prints an HS256 token signed with AUTH_JWT_SECRET, for trying the protected
// routes on a deployment without an identity provider.
import { Result } from "effect"
import { SignJWT } from "jose"
import { parseArgs } from "node:util"
import { settingsFromEnvironment } from "../config.ts"
import { formatGoDuration, parseGoDuration } from "../duration.ts"

const usage = "usage: npm run token -- --role gxy_admin [--role gxy_user] [--sub alice] [--ttl 1h]"

function refuse(message: string): never {
  console.error(message)
  process.exit(2)
}

const parsed = Result.try({
  try: () =>
    parseArgs({
      options: {
        role: { type: "string", multiple: true, default: [] },
        sub: { type: "string", default: "local-user" },
        ttl: { type: "string", default: "1h" }
      }
    }).values,
  catch: (e) => `${e instanceof Error ? e.message : String(e)}\n${usage}`
})
if (Result.isFailure(parsed)) refuse(parsed.failure)
const args = parsed.success

const decoded = settingsFromEnvironment()
if (Result.isFailure(decoded)) refuse(decoded.failure.message)
const settings = decoded.success
const secret = settings.authJwtSecret ??
  refuse("AUTH_JWT_SECRET is not set: the token is signed with it (HS256); start the service with the same AUTH_JWT_SECRET")
const roles = args.role.flatMap((r) => r.split(",")).map((r) => r.trim()).filter((r) => r !== "")
const ttl = parseGoDuration(args.ttl) ?? 0
if (ttl < 1_000) refuse(`Invalid --ttl ${JSON.stringify(args.ttl)}: expected a duration of at least 1s, e.g. 1h\n${usage}`)
if (roles.length === 0) console.error(`No --role given: the token is valid but opens no route (403). ${usage}`)

const now = Math.floor(Date.now() / 1000)
let token = new SignJWT({ realm_access: { roles } })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(args.sub)
  .setIssuedAt(now)
  .setExpirationTime(now + Math.floor(ttl / 1000))
if (settings.authIssuer !== undefined) token = token.setIssuer(settings.authIssuer)
if (settings.authAudience !== undefined) token = token.setAudience(settings.authAudience)

console.log(await token.sign(new TextEncoder().encode(secret)))
console.error(`Token for ${args.sub} with roles [${roles.join(", ")}], valid ${formatGoDuration(ttl)}`)
