// Logging in to the inspector at the identity provider (AUTH_ISSUER), in a
// real browser (Chromium): the authorization code flow with PKCE as the
// public client AUTH_AUDIENCE names, the page's own address as the
// redirect, the access token sent on every call (the live stream too) and
// refreshed before it expires, and a log out that asks again.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { browserContext, openPage, skipReason } from "../support/browser.ts"
import { backend } from "../support/database.ts"
import { bearer, newKey, signWith } from "../support/identity.ts"
import { call, serviceOnFreshDatabase } from "../support/service.ts"
import { loginProvider } from "./loginProvider.ts"
import { answerConfirmation, expectStatus, gatewayShows, on, resultShows, rowShows, text, textIs } from "./pageDriver.ts"

const audience = "room-orchestrator"

describe.skipIf(skipReason !== undefined)(`the inspector's login in Chromium (${backend})`, () => {
  it.live("logs in with the authorization code and PKCE, sends the token everywhere, refreshes it, logs out", () =>
    Effect.gen(function*() {
      const key = yield* newKey()
      const idp = yield* loginProvider(key, { clientId: audience, audience, roles: ["gxy_admin"], expiresIn: 300 })
      const { base } = yield* serviceOnFreshDatabase({ AUTH_ISSUER: idp.issuer, AUTH_AUDIENCE: audience, SCALE: "true" })
      const service = bearer(yield* signWith(key, { issuer: idp.issuer, audience, roles: ["gxy_admin"] }))
      const context = yield* browserContext({ width: 1400, height: 960 })
      const { page, errors } = yield* openPage(context)
      const sent: Array<string> = []
      page.on("request", (r) => {
        if (r.url().startsWith(`${base}/admin/`)) sent.push(`${new URL(r.url()).pathname} ${r.headers()["authorization"]?.split(" ")[0] ?? "none"}`)
      })

      // Without a login the page asks for one, at the issuer.
      yield* on(() => page.goto(`${base}/inspect?room=2171`))
      yield* on(() => page.waitForSelector("#token-dialog[open]"))
      assert.strictEqual(yield* text(page, "#token-reason"), "This page needs an administrator's login.")
      assert.strictEqual(yield* text(page, "#login-button"), `Log in at ${new URL(idp.issuer).host}`)
      assert.isTrue(yield* on(() => page.locator("#token-or").isVisible()), "a pasted token is still possible")

      yield* on(() => page.click("#login-button"))
      yield* on(() => page.waitForSelector("#sign-in"))
      const asked = idp.authorizations[0]!
      assert.deepStrictEqual(
        Object.fromEntries([...asked].filter(([k]) => k !== "state" && k !== "code_challenge")),
        { response_type: "code", client_id: audience, redirect_uri: `${base}/inspect`, scope: "openid", code_challenge_method: "S256" }
      )
      assert.match(asked.get("code_challenge")!, /^[A-Za-z0-9_-]{43}$/)
      assert.match(asked.get("state")!, /^[A-Za-z0-9_-]{43}$/)

      // Signed in, back on the page: the code traded (the verifier matched), the address as it was, the data loaded.
      yield* on(() => page.click("#sign-in"))
      yield* on(() => page.waitForSelector('#connection[data-status="live"]', { timeout: 15_000 }))
      assert.deepStrictEqual(idp.tokenRequests, ["authorization_code: issued"])
      assert.strictEqual(page.url(), `${base}/inspect?room=2171`)
      yield* textIs(page, "#detail-title", "Room 2171 · Room 1")
      assert.strictEqual(yield* text(page, "#who-name"), "alice")
      yield* rowShows(page, "2171", { state: "idle" }, 5000)

      // Live changes arrive over the logged-in stream; changes made from the page carry the token.
      const { janus } = expectStatus(yield* call("POST", `${base}/v2/room_server`, { room: 2171 }, service), 200)
      yield* rowShows(page, "2171", { state: "assigned", gateway: janus }, 2000)
      yield* on(() => page.click('#gateways tr[data-gateway="gxy2"] .g-drain'))
      yield* answerConfirmation(page)
      assert.strictEqual(yield* resultShows(page, "gxy2 is draining: it keeps its 0 rooms and takes no new ones."), "ok")
      yield* gatewayShows(page, "gxy2", "0 / 400 | 0 | 0 | status unknown draining | Undrain…")
      assert.includeMembers([...new Set(sent)], [
        "/admin/machine Bearer",
        "/admin/machines/events Bearer",
        "/admin/machines Bearer",
        "/admin/gateway-loads Bearer",
        "/admin/sessions Bearer",
        "/admin/gateways/gxy2 Bearer"
      ])

      // An access token about to expire is refreshed before the next call.
      yield* on(() => page.evaluate(() => sessionStorage.setItem("room-orchestrator.expires", String(Date.now()))))
      yield* on(() => page.click('#gateways tr[data-gateway="gxy2"] .g-drain'))
      yield* answerConfirmation(page)
      assert.strictEqual(yield* resultShows(page, "gxy2 takes new rooms again."), "ok")
      yield* gatewayShows(page, "gxy2", "0 / 400 | 0 | 0 | status unknown | Drain…")
      assert.deepStrictEqual(idp.tokenRequests, ["authorization_code: issued", "refresh_token: issued"])

      // Logged out: asked again.
      yield* on(() => page.click("#logout"))
      yield* on(() => page.waitForSelector("#token-dialog[open]"))
      assert.strictEqual(yield* text(page, "#token-reason"), "This page needs an administrator's login.")
      assert.deepStrictEqual(errors.filter((e) => !e.includes("status of 401")), [])
    }).pipe(Effect.scoped), 90_000)

  it.live("a login answer that was not asked for by this page is refused, and says so", () =>
    Effect.gen(function*() {
      const key = yield* newKey()
      const idp = yield* loginProvider(key, { clientId: audience, audience, roles: ["gxy_admin"], expiresIn: 300 })
      const { base } = yield* serviceOnFreshDatabase({ AUTH_ISSUER: idp.issuer, AUTH_AUDIENCE: audience })
      const context = yield* browserContext()
      const { page } = yield* openPage(context)
      yield* on(() => page.goto(`${base}/inspect?code=stolen&state=forged`))
      yield* on(() => page.waitForSelector("#token-dialog[open]"))
      assert.strictEqual(yield* text(page, "#login-problem"), "That login answer was not for this page: log in again.")
      assert.strictEqual(new URL(page.url()).search, "", "the code is not left in the address")
      assert.deepStrictEqual(idp.tokenRequests, [], "nothing was traded")
    }).pipe(Effect.scoped), 60_000)
})
