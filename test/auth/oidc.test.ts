// Bearer tokens from an OIDC provider (a key set served by the test, found
// by discovery): every way a token can be wrong is a 401, a token without
// the role a 403, the right role opens the route, and a rotated key set is
// picked up.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { backend } from "../support/database.ts"
import { type Answer, bearer, identityProvider, newKey, send, signHs256, signWith, unsigned } from "../support/identity.ts"
import { collectLogs, serviceOnFreshDatabase } from "../support/service.ts"

const audience = "room-orchestrator"

const expect401 = (answer: Answer, reason: RegExp, token?: string) => {
  assert.strictEqual(answer.status, 401, JSON.stringify(answer.body))
  assert.match(answer.body.error, reason)
  assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer realm="room-orchestrator"/)
  if (token !== undefined) assert.notInclude(JSON.stringify(answer.body), token)
}

describe(`OIDC bearer tokens (${backend})`, () => {
  it.live("401 for every bad token, 403 without the role, the route with it", () =>
    Effect.gen(function*() {
      const key = yield* newKey()
      const idp = yield* identityProvider([key])
      const logs = collectLogs()
      const { base } = yield* serviceOnFreshDatabase({ AUTH_ISSUER: idp.issuer, AUTH_AUDIENCE: audience, SCALE: "true" }, logs.logger)
      const http = send(base)
      const good = { issuer: idp.issuer, audience }
      const roomServer = (headers: Record<string, string>) => http("POST", "/v2/room_server", headers, { room: 2171 })

      const missing = yield* roomServer({})
      expect401(missing, /authentication required: send Authorization: Bearer <token>/)
      assert.strictEqual(missing.headers.get("www-authenticate"), `Bearer realm="room-orchestrator"`)

      const expired = yield* signWith(key, { ...good, roles: ["gxy_user"], expiresIn: -60 })
      expect401(yield* roomServer(bearer(expired)), /expired/, expired)
      const foreign = yield* signWith(key, { ...good, issuer: "https://elsewhere.example/realms/main", roles: ["gxy_user"] })
      expect401(yield* roomServer(bearer(foreign)), /"iss"/, foreign)
      const otherAudience = yield* signWith(key, { ...good, audience: "another-service", roles: ["gxy_user"] })
      expect401(yield* roomServer(bearer(otherAudience)), /"aud"/, otherAudience)
      const noExpiry = yield* signWith(key, { ...good, roles: ["gxy_user"], expiresIn: null })
      expect401(yield* roomServer(bearer(noExpiry)), /no expiry/, noExpiry)

      // Same kid, another private key: the signature does not verify.
      const impostor = yield* newKey()
      const forged = yield* signWith(impostor, { ...good, roles: ["gxy_root"] }, key.kid)
      expect401(yield* roomServer(bearer(forged)), /bad signature/, forged)
      // A key the issuer does not publish.
      const stranger = yield* signWith(impostor, { ...good, roles: ["gxy_root"] })
      expect401(yield* roomServer(bearer(stranger)), /not signed by a key of the issuer/, stranger)
      // Unsigned, and HS256 (a shared secret is never accepted on a key set).
      expect401(yield* roomServer(bearer(unsigned({ ...good, roles: ["gxy_root"] }))), /invalid token/)
      const symmetric = yield* signHs256("a".repeat(32), { ...good, roles: ["gxy_root"] })
      expect401(yield* roomServer(bearer(symmetric)), /algorithm not accepted/, symmetric)
      expect401(yield* roomServer(bearer("not-a-token")), /malformed/)
      const rejected = yield* roomServer(bearer(expired))
      assert.strictEqual(rejected.headers.get("www-authenticate"), `Bearer realm="room-orchestrator", error="invalid_token"`)

      // Valid, but no gxy_* role: 403 everywhere; gxy_user opens client routes only.
      const guest = yield* signWith(key, { ...good, roles: ["offline_access", "pending_approval"] })
      const forbidden = yield* roomServer(bearer(guest))
      assert.strictEqual(forbidden.status, 403)
      assert.deepStrictEqual(forbidden.body, { error: "forbidden: this route needs a gxy_* role" })
      const user = yield* signWith(key, { ...good, roles: ["gxy_user"] })
      const answer = yield* roomServer(bearer(user))
      assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
      assert.match(answer.body.janus, /^gxy\d+$/)
      assert.strictEqual((yield* http("GET", "/groups", bearer(user))).status, 200)
      assert.strictEqual((yield* http("PUT", "/users/u1", bearer(user), { room: 2171, janus: answer.body.janus, session: 1, rfid: "11" })).status, 200)
      assert.strictEqual((yield* http("GET", "/room/2171", bearer(user))).body.users.length, 1)
      const notAdmin = yield* http("GET", "/admin/gateways", bearer(user))
      assert.strictEqual(notAdmin.status, 403)
      assert.deepStrictEqual(notAdmin.body, { error: "forbidden: this route needs the role gxy_admin or gxy_root" })

      // gxy_admin and gxy_root open the admin routes; the change is audited with the token's subject.
      const admin = yield* signWith(key, { ...good, sub: "admin-42", roles: ["gxy_admin"] })
      assert.strictEqual((yield* http("GET", "/admin/gateways", bearer(admin))).status, 200)
      const root = yield* signWith(key, { ...good, sub: "root-7", roles: ["gxy_root"] })
      const patched = yield* http("PATCH", "/admin/rooms/2171", bearer(root), { name: "Renamed" })
      assert.strictEqual(patched.status, 200, JSON.stringify(patched.body))
      assert.isTrue(logs.lines.some((l) =>
        l.includes(`message="Admin change"`) && l.includes("subject=root-7") && l.includes("action=room.update") && l.includes("room=2171")))

      // Public routes need nothing.
      for (const path of ["/health", "/ready", "/metrics", "/openapi.json", "/docs"]) {
        assert.strictEqual((yield* http("GET", path)).status, 200, path)
      }
      // No token ever reaches the logs.
      for (const token of [expired, foreign, forged, user, admin, root]) {
        assert.isFalse(logs.lines.some((l) => l.includes(token)))
      }
    }).pipe(Effect.scoped))

  it.live("a rotated key set is fetched again: new keys are accepted, retired ones refused", () =>
    Effect.gen(function*() {
      const first = yield* newKey()
      const idp = yield* identityProvider([first])
      // With no cooldown, a token naming an unknown key fetches the key set again at once.
      const { base } = yield* serviceOnFreshDatabase({ AUTH_ISSUER: idp.issuer, AUTH_JWKS_COOLDOWN: "0s" })
      const http = send(base)
      const groups = (token: string) => http("GET", "/groups", bearer(token))

      const before = yield* signWith(first, { issuer: idp.issuer, roles: ["gxy_user"] })
      assert.strictEqual((yield* groups(before)).status, 200)
      assert.strictEqual((yield* groups(before)).status, 200)
      const fetched = idp.fetches()
      assert.isAtMost(fetched, 2, "the key set is cached, not fetched per request")

      const second = yield* newKey("ES256")
      yield* idp.publish([second])
      const after = yield* signWith(second, { issuer: idp.issuer, roles: ["gxy_user"] })
      assert.strictEqual((yield* groups(after)).status, 200)
      assert.isAbove(idp.fetches(), fetched)
      const retired = yield* groups(before)
      assert.strictEqual(retired.status, 401)
      assert.match(retired.body.error, /not signed by a key of the issuer/)
    }).pipe(Effect.scoped))

  it.live("an identity provider that cannot be reached is a 503, not a 401 or a 500", () =>
    Effect.gen(function*() {
      const key = yield* newKey()
      const idp = yield* Effect.scoped(identityProvider([key]))
      const { base } = yield* serviceOnFreshDatabase({ AUTH_ISSUER: idp.issuer })
      const token = yield* signWith(key, { issuer: idp.issuer, roles: ["gxy_user"] })
      const answer = yield* send(base)("GET", "/groups", bearer(token))
      assert.strictEqual(answer.status, 503, JSON.stringify(answer.body))
      assert.match(answer.body.error, /identity provider unavailable/)
    }).pipe(Effect.scoped))
})
