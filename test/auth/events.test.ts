// Gateways posting Janus events: Basic <gateway>:<events password>, the
// password set through the admin API, stored only as a bcrypt hash and never
// shown back.
import { assert, describe, it } from "@effect/vitest"
import bcrypt from "bcryptjs"
import { Effect, Layer } from "effect"
import { Passwords } from "../../src/auth/passwords.ts"
import { AppConfig } from "../../src/config.ts"
import { GatewayStore } from "../../src/db/gatewayStore.ts"
import { backend, type FreshDatabase } from "../support/database.ts"
import { basic, bearer, send, signHs256 } from "../support/identity.ts"
import { databaseLayerFor, query } from "../support/rooms.ts"
import { collectLogs, serviceOnFreshDatabase, testSettings } from "../support/service.ts"

const secret = "test-secret-of-at-least-32-bytes!!"
const servicePassword = "machine-password"
const gatewayPassword = "gxy13 events: p@ss"

const sqlOn = <A extends object>(db: FreshDatabase, text: string, ...params: ReadonlyArray<unknown>) =>
  Effect.provide(query<A>(text, ...params), databaseLayerFor(db)).pipe(Effect.scoped)

const leaving = (feed: string) => ({
  emitter: "gxy13",
  type: 64,
  event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", room: 2171, id: feed } }
})

describe(`POST /event with gateway credentials (${backend})`, () => {
  it.live("401 without or with wrong credentials, the session closes with the gateway's password", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const { base, db } = yield* serviceOnFreshDatabase(
        { AUTH_JWT_SECRET: secret, SERVICE_PASSWORD: servicePassword },
        logs.logger
      )
      const http = send(base)
      const service = basic("service", servicePassword)

      const created = yield* http("POST", "/admin/gateways", service, { name: "gxy13", events_password: gatewayPassword })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      assert.notProperty(created.body, "events_password")
      const listed = (yield* http("GET", "/admin/gateways", service)).body as Array<{ name: string; events_password_set: boolean }>
      assert.deepInclude(listed.find((g) => g.name === "gxy13"), { events_password_set: true })
      assert.deepInclude(listed.find((g) => g.name === "gxy1"), { events_password_set: false })
      assert.notInclude(JSON.stringify(listed), gatewayPassword)
      const [row] = yield* sqlOn<{ hash: string }>(db, "SELECT events_password_hash AS hash FROM gateways WHERE name = 'gxy13'")
      assert.match(row!.hash, /^\$2[aby]\$10\$/)
      assert.notInclude(row!.hash, gatewayPassword)

      const join = (feed: string) => http("PUT", `/users/u${feed}`, service, { room: 2171, janus: "gxy13", session: Number(feed), rfid: feed })
      const users = Effect.map(http("GET", "/room/2171", service), (a) => (a.status === 200 ? a.body.users.length : 0))
      yield* join("1")
      yield* join("2")
      assert.strictEqual(yield* users, 2)

      const missing = yield* http("POST", "/event", {}, leaving("1"))
      assert.strictEqual(missing.status, 401)
      assert.strictEqual(missing.headers.get("www-authenticate"), `Basic realm="room-orchestrator"`)
      assert.match(missing.body.error, /<gateway name>:<events password>/)
      for (const wrong of [basic("gxy13", "guess"), basic("gxy1", gatewayPassword), basic("nope", gatewayPassword), basic("service", "guess")]) {
        const refused = yield* http("POST", "/event", wrong, leaving("1"))
        assert.strictEqual(refused.status, 401, JSON.stringify(refused.body))
      }
      // A person's token is not a gateway's credential, even an admin's.
      const admin = yield* signHs256(secret, { roles: ["gxy_root"] })
      assert.strictEqual((yield* http("POST", "/event", bearer(admin), leaving("1"))).status, 401)
      assert.strictEqual(yield* users, 2, "no refused event closed a session")

      const posted = yield* http("POST", "/event", basic("gxy13", gatewayPassword), leaving("1"))
      assert.deepStrictEqual(posted.body, { result: "success" })
      assert.strictEqual(yield* users, 1)
      // Again (remembered after the first check), and the service user may post too.
      assert.strictEqual((yield* http("POST", "/event", basic("gxy13", gatewayPassword), leaving("9"))).status, 200)
      assert.strictEqual((yield* http("POST", "/event", service, leaving("2"))).status, 200)
      assert.strictEqual(yield* users, 0)

      // A new password replaces the old one at once; null removes it.
      assert.strictEqual((yield* http("PATCH", "/admin/gateways/gxy13", service, { events_password: "rotated" })).status, 200)
      assert.strictEqual((yield* http("POST", "/event", basic("gxy13", gatewayPassword), leaving("1"))).status, 401)
      assert.strictEqual((yield* http("POST", "/event", basic("gxy13", "rotated"), leaving("1"))).status, 200)
      assert.strictEqual((yield* http("PATCH", "/admin/gateways/gxy13", service, { events_password: null })).status, 200)
      assert.strictEqual((yield* http("POST", "/event", basic("gxy13", "rotated"), leaving("1"))).status, 401)
      const tooLong = yield* http("PATCH", "/admin/gateways/gxy13", service, { events_password: "x".repeat(73) })
      assert.strictEqual(tooLong.status, 400)
      assert.match(tooLong.body.error, /events_password: must be at most 72 bytes/)

      const audit = logs.lines.filter((l) => l.includes(`message="Admin change"`) && l.includes("gateway=gxy13"))
      assert.strictEqual(audit.length, 3, audit.join("\n"))
      assert.include(audit[0]!, `\\"events_password\\":\\"(set)\\"`)
      assert.include(audit.at(-1)!, `\\"events_password\\":\\"(removed)\\"`)
      assert.isFalse(logs.lines.some((l) => l.includes(gatewayPassword) || l.includes("rotated") || l.includes(servicePassword)))
    }).pipe(Effect.scoped))
})

describe("events passwords", () => {
  const storeWith = (hashes: Map<string, string>) =>
    Layer.succeed(GatewayStore, { eventsPasswordHash: (name: string) => Effect.succeed(hashes.get(name)) } as unknown as GatewayStore["Service"])

  it.effect("accepts gxydb-api's bcrypt hashes ($2a$, $2y$) and forgets a password whose hash changed", () =>
    Effect.gen(function*() {
      const hashes = new Map([
        ["gxy1", bcrypt.hashSync("one", 4).replace(/^\$2b\$/, "$2a$")],
        ["gxy2", bcrypt.hashSync("two", 4).replace(/^\$2b\$/, "$2y$")]
      ])
      const passwords = yield* Effect.gen(function*() {
        return yield* Passwords
      }).pipe(Effect.provide(Passwords.layer.pipe(Layer.provide([storeWith(hashes), AppConfig.layer(testSettings())]))))
      assert.match(hashes.get("gxy1")!, /^\$2a\$/)
      assert.isTrue(yield* passwords.verify("gxy1", "one"))
      assert.isTrue(yield* passwords.verify("gxy2", "two"))
      assert.isFalse(yield* passwords.verify("gxy1", "two"))
      assert.isFalse(yield* passwords.verify("gxy3", "one"))
      hashes.set("gxy1", bcrypt.hashSync("new", 4))
      assert.isFalse(yield* passwords.verify("gxy1", "one"), "a remembered password does not outlive its hash")
      assert.isTrue(yield* passwords.verify("gxy1", "new"))
      assert.isFalse(passwords.isServicePassword(""), "no service user without SERVICE_PASSWORD")
    }))
})
