// HS256 tokens (a deployment without an identity provider), the service user
// on every route, /metrics behind authentication on request, and the
// security schemes the OpenAPI document declares.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { backend } from "../support/database.ts"
import { basic, bearer, send, signHs256, unsigned } from "../support/identity.ts"
import { collectLogs, serviceOnFreshDatabase } from "../support/service.ts"

const secret = "test-secret-of-at-least-32-bytes!!"
const servicePassword = "s3rvice:pass word"

describe(`HS256 tokens and the service user (${backend})`, () => {
  it.live("checks signature, expiry and roles; the audience only when AUTH_AUDIENCE is set", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ AUTH_JWT_SECRET: secret })
      const http = send(base)
      const rooms = (headers: Record<string, string>) => http("GET", "/rooms", headers)

      const missing = yield* rooms({})
      assert.strictEqual(missing.status, 401)
      assert.strictEqual(missing.headers.get("www-authenticate"), `Bearer realm="room-orchestrator"`)

      const wrongSecret = yield* signHs256("another-secret-of-32-bytes-or-more", { roles: ["gxy_user"] })
      assert.match((yield* rooms(bearer(wrongSecret))).body.error, /bad signature/)
      const expired = yield* signHs256(secret, { roles: ["gxy_user"], expiresIn: -60 })
      assert.match((yield* rooms(bearer(expired))).body.error, /expired/)
      const none = yield* rooms(bearer(unsigned({ roles: ["gxy_root"] })))
      assert.strictEqual(none.status, 401)

      const noRole = yield* signHs256(secret, { roles: [] })
      assert.strictEqual((yield* rooms(bearer(noRole))).status, 403)
      // gxydb-api does not check the audience either: any `aud` passes when AUTH_AUDIENCE is unset.
      const user = yield* signHs256(secret, { roles: ["gxy_viewer"], audience: "galaxy" })
      const listed = yield* rooms(bearer(user))
      assert.strictEqual(listed.status, 200, JSON.stringify(listed.body))
      assert.deepStrictEqual(listed.body, [])
      assert.strictEqual((yield* http("GET", "/admin/rooms", bearer(user))).status, 403)
      const admin = yield* signHs256(secret, { roles: ["gxy_admin"] })
      assert.strictEqual((yield* http("GET", "/admin/rooms", bearer(admin))).status, 200)
    }).pipe(Effect.scoped))

  it.live("with AUTH_AUDIENCE, a token for another audience is refused", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ AUTH_JWT_SECRET: secret, AUTH_AUDIENCE: "room-orchestrator" })
      const http = send(base)
      const mine = yield* signHs256(secret, { roles: ["gxy_user"], audience: "room-orchestrator" })
      const theirs = yield* signHs256(secret, { roles: ["gxy_user"], audience: "galaxy" })
      assert.strictEqual((yield* http("GET", "/groups", bearer(mine))).status, 200)
      const refused = yield* http("GET", "/groups", bearer(theirs))
      assert.strictEqual(refused.status, 401)
      assert.match(refused.body.error, /"aud"/)
    }).pipe(Effect.scoped))

  it.live("Basic service:<SERVICE_PASSWORD> works on every route; a wrong one is a 401; the audit names `service`", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const { base } = yield* serviceOnFreshDatabase({ AUTH_JWT_SECRET: secret, SERVICE_PASSWORD: servicePassword }, logs.logger)
      const http = send(base)
      const service = basic("service", servicePassword)

      const missing = yield* http("GET", "/groups")
      assert.strictEqual(missing.headers.get("www-authenticate"), `Bearer realm="room-orchestrator", Basic realm="room-orchestrator"`)
      assert.match(missing.body.error, /Basic service:<password>/)

      const server = yield* http("POST", "/v2/room_server", service, { room: 2171 })
      assert.deepStrictEqual(server.body, { janus: "gxy1" })
      assert.strictEqual((yield* http("GET", "/groups?with_num_users=true", service)).status, 200)
      assert.strictEqual((yield* http("PUT", "/users/u1", service, { room: 2171, janus: "gxy1", session: 1, rfid: 7 })).status, 200)
      assert.strictEqual((yield* http("GET", "/rooms", service)).body.length, 1)
      assert.strictEqual((yield* http("GET", "/room/2171", service)).status, 200)
      assert.strictEqual((yield* http("GET", "/rooms/2171", service)).status, 200)
      const event = { emitter: "gxy1", type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", room: 2171, id: "7" } } }
      assert.strictEqual((yield* http("POST", "/event", service, event)).status, 200)
      assert.deepStrictEqual((yield* http("GET", "/rooms", service)).body, [])
      assert.strictEqual((yield* http("GET", "/admin/gateways", service)).status, 200)
      assert.strictEqual((yield* http("POST", "/admin/rooms", service, { room: 5000, name: "Lesson" })).status, 201)
      assert.strictEqual((yield* http("DELETE", "/admin/rooms/5000", service)).status, 200)
      assert.strictEqual((yield* http("GET", "/admin/rooms/2171/machine", service)).status, 200)

      for (const wrong of [basic("service", "nope"), basic("admin", servicePassword), { authorization: "Basic !!!" }, { authorization: "Digest x" }]) {
        const refused = yield* http("GET", "/groups", wrong)
        assert.strictEqual(refused.status, 401, JSON.stringify(refused.body))
      }
      assert.isTrue(logs.lines.some((l) => l.includes(`message="Admin change"`) && l.includes("subject=service") && l.includes("action=room.create")))
      assert.isTrue(logs.lines.some((l) => l.includes("action=room.remove") && l.includes("room=5000")))
      assert.isFalse(logs.lines.some((l) => l.includes(servicePassword) || l.includes(secret)))
    }).pipe(Effect.scoped))

  it.live("METRICS_AUTH=true puts /metrics behind admin access; health, readiness and docs stay public", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ AUTH_JWT_SECRET: secret, SERVICE_PASSWORD: servicePassword, METRICS_AUTH: "true" })
      const http = send(base)
      const refused = yield* http("GET", "/metrics")
      assert.strictEqual(refused.status, 401)
      assert.match(refused.body.error, /authentication required/)
      assert.include(refused.headers.get("www-authenticate") ?? "", "Bearer")
      const user = yield* signHs256(secret, { roles: ["gxy_user"] })
      assert.strictEqual((yield* http("GET", "/metrics", bearer(user))).status, 403)
      const scraped = yield* http("GET", "/metrics", basic("service", servicePassword))
      assert.strictEqual(scraped.status, 200)
      assert.include(scraped.body, "# TYPE ")
      for (const path of ["/health", "/ready", "/openapi.json", "/docs"]) {
        assert.strictEqual((yield* http("GET", path)).status, 200, path)
      }
      // Preflight requests never need credentials.
      assert.notStrictEqual((yield* http("OPTIONS", "/v2/room_server")).status, 401)
    }).pipe(Effect.scoped))

  it.live("the OpenAPI document declares bearer and basic schemes on the protected routes only", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ AUTH_JWT_SECRET: secret })
      const spec = (yield* send(base)("GET", "/openapi.json")).body
      const { bearer: bearerScheme, basic: basicScheme } = spec.components.securitySchemes
      assert.deepInclude(bearerScheme, { type: "http", bearerFormat: "JWT" })
      assert.strictEqual(bearerScheme.scheme.toLowerCase(), "bearer")
      assert.deepInclude(basicScheme, { type: "http" })
      assert.strictEqual(basicScheme.scheme.toLowerCase(), "basic")
      assert.deepStrictEqual(spec.paths["/v2/room_server"].post.security, [{ bearer: [] }, { basic: [] }])
      assert.deepStrictEqual(spec.paths["/admin/gateways"].get.security, [{ bearer: [] }, { basic: [] }])
      assert.deepStrictEqual(spec.paths["/event"].post.security, [{ basic: [] }])
      assert.deepStrictEqual(spec.paths["/health"].get.security ?? [], [])
      assert.property(spec.paths["/admin/gateways"].get.responses, "401")
      assert.property(spec.paths["/admin/gateways"].get.responses, "403")
    }).pipe(Effect.scoped))
})
