// The authentication settings: refused when they would verify less than the
// operator meant, secrets never echoed, and the rule that decides whether
// the service may listen where it was asked to.
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { authMode, checkExposure, decodeSettings, isLoopback } from "../../src/config.ts"
import { refusalNaming, refusalOf, settingsOf } from "../support/settings.ts"

/** The settings as the service takes them at start: decoded, then the address it would listen on checked. */
const decode = (env: Record<string, string>) => Result.flatMap(decodeSettings(env), checkExposure)
const failure = refusalOf(decode)
const settings = settingsOf(decode)

describe("authentication settings", () => {
  it("are off by default, and the default address is loopback", () => {
    const s = settings({})
    assert.strictEqual(authMode(s), "unset")
    assert.strictEqual(s.metricsAuth, false)
    assert.strictEqual(s.authJwksCooldown, 30_000)
    assert.strictEqual(s.authAudience, undefined)
  })

  it.each([
    ["AUTH", "off", "unknown value"],
    ["AUTH_ISSUER", "accounts.example.org", "not a URL"],
    ["AUTH_ISSUER", "ftp://accounts.example.org", "not an http(s):// URL"],
    ["AUTH_JWT_SECRET", "short", "shorter than 32 bytes"],
    ["METRICS_AUTH", "sometimes", "not a boolean"],
    ["AUTH_JWKS_COOLDOWN", "soon", "not a duration"],
    ["MQTT_URL", "mqtt://user:50%zz@broker:1883", "badly percent-encoded"]
  ])("refuses %s=%s, naming it", (name, value, reason) => void refusalNaming(decode)(name, value, reason))

  it("never echoes a secret", () => {
    assert.notInclude(failure({ AUTH_JWT_SECRET: "tiny-secret" }).message, "tiny-secret")
    assert.notInclude(failure({ MQTT_URL: "mqtt://user:50%zz@broker:1883" }).message, "50%zz")
  })

  it("refuses combinations that would check less than meant", () => {
    assert.include(failure({ AUTH_JWKS_URL: "https://idp/certs" }).message, "needs AUTH_ISSUER")
    assert.include(
      failure({ AUTH_ISSUER: "https://idp/realms/main", AUTH_JWKS_URL: "https://idp/certs", AUTH_JWT_SECRET: "x".repeat(32) }).message,
      "not both"
    )
    assert.include(failure({ AUTH_AUDIENCE: "room-orchestrator" }).message, "needs AUTH_ISSUER or AUTH_JWT_SECRET")
  })

  it("without any setting, serves only a loopback address", () => {
    for (const address of ["127.0.0.1:8081", "127.10.0.1:8081", "[::1]:8081", "localhost:8081"]) {
      assert.strictEqual(authMode(settings({ LISTEN_ADDRESS: address })), "unset", address)
    }
    for (const address of ["0.0.0.0:8081", ":8081", "10.0.0.5:8081", "[::]:8081"]) {
      const error = failure({ LISTEN_ADDRESS: address })
      assert.strictEqual(error.variable, "AUTH")
      assert.match(error.message, /^Refusing to listen on .* without authentication: set AUTH_ISSUER \(OIDC\) or AUTH_JWT_SECRET \(HS256\), or AUTH=none/)
    }
  })

  it("any credential setting turns authentication on; AUTH=none turns it off on purpose", () => {
    const open = { LISTEN_ADDRESS: "0.0.0.0:8081" }
    assert.strictEqual(authMode(settings({ ...open, AUTH_ISSUER: "https://idp/realms/main" })), "on")
    assert.strictEqual(authMode(settings({ ...open, AUTH_JWT_SECRET: "x".repeat(32) })), "on")
    assert.strictEqual(authMode(settings({ ...open, SERVICE_PASSWORD: "machines" })), "on")
    assert.strictEqual(authMode(settings({ ...open, AUTH: "none" })), "off")
    assert.strictEqual(authMode(settings({ ...open, AUTH: "NONE", AUTH_JWT_SECRET: "x".repeat(32) })), "off")
  })

  it("knows loopback addresses", () => {
    assert.isTrue(isLoopback("127.0.0.1"))
    assert.isTrue(isLoopback("::ffff:127.0.0.1"))
    assert.isFalse(isLoopback("0.0.0.0"))
    assert.isFalse(isLoopback("128.0.0.1"))
    assert.isFalse(isLoopback("127.0.0.1.example.org"))
  })
})
