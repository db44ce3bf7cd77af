// The meeting page (GET /meet) in a real browser (Chromium): two tabs, one
// creates a room, the other joins it by its code, each sees the other's mic
// and camera change live, and a leave. Screenshots go to .ci/out/screenshots/.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Page } from "playwright-core"
import { browserContext, openPage, screenshotPath, skipReason, watchPage } from "../support/browser.ts"
import { backend } from "../support/database.ts"
import { serviceOnFreshDatabase } from "../support/service.ts"

const on = <A>(f: () => Promise<A>) => Effect.promise(f)


const flagsOf = (page: Page, userId: string) =>
  on(() =>
    page.$eval(`#users li[data-user-id="${userId}"]`, (li) => ({
      mic: (li as HTMLElement).dataset.mic,
      cam: (li as HTMLElement).dataset.cam,
      screen: (li as HTMLElement).dataset.screen
    }))
  )

if (skipReason !== undefined) console.warn(`The meeting page tests are ${skipReason}`)

describe.skipIf(skipReason !== undefined)(`GET /meet in Chromium (${backend})${skipReason ? ` — ${skipReason}` : ""}`, () => {
  it.live("two tabs: create, join by code, see each other's mic and camera change live, leave", () =>
    Effect.gen(function*() {
      const { base, sql } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const context = yield* browserContext({ width: 900, height: 640 })
      const { page: alice, errors: aliceErrors, requests: aliceRequests } = yield* openPage(context)
      const bob = yield* on(() => context.newPage())
      const bobWatch = watchPage(bob)

      yield* on(() => alice.goto(`${base}/meet`))
      yield* on(() => alice.waitForSelector('#connection[data-status="live"]', { timeout: 15_000 }))
      yield* on(() => alice.fill("#user-id", "alice"))
      yield* on(() => alice.fill("#room-name", "Demo meeting"))
      yield* on(() => alice.click("#create"))
      yield* on(() => alice.waitForSelector("#room:not([hidden])", { timeout: 10_000 }))
      const code = yield* on(() => alice.locator("#room-code").innerText())
      assert.match(code, /^[A-Z0-9]{6}$/)
      assert.strictEqual(yield* on(() => alice.locator("#room-name-shown").innerText()), "Demo meeting")
      assert.match(yield* on(() => alice.locator("#room-gateway").innerText()), /^gxy\d+$/)

      yield* on(() => bob.goto(`${base}/meet`))
      yield* on(() => bob.waitForSelector('#connection[data-status="live"]', { timeout: 15_000 }))
      yield* on(() => bob.fill("#user-id", "bob"))
      yield* on(() => bob.fill("#join-code", code.toLowerCase()))
      yield* on(() => bob.click("#join"))
      yield* on(() => bob.waitForSelector('#users li[data-user-id="alice"]', { timeout: 10_000 }))
      yield* on(() => alice.waitForSelector('#users li[data-user-id="bob"]', { timeout: 5_000 }))
      assert.strictEqual(yield* on(() => bob.locator("#room-code").innerText()), code)
      assert.deepStrictEqual(yield* flagsOf(alice, "bob"), { mic: "false", cam: "false", screen: "false" })

      // bob turns his mic on: alice's tab shows it, and so does the database
      yield* on(() => bob.click("#toggle-mic"))
      yield* on(() => bob.waitForSelector('#toggle-mic[aria-pressed="true"]', { timeout: 5_000 }))
      yield* on(() => alice.waitForSelector('#users li[data-user-id="bob"][data-mic="true"]', { timeout: 5_000 }))
      assert.deepStrictEqual(yield* flagsOf(alice, "bob"), { mic: "true", cam: "false", screen: "false" })
      const [stored] = yield* sql<{ mic: boolean }>(
        `SELECT s.mic FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.account_id = 'bob' AND s.removed_at IS NULL`
      )
      assert.deepStrictEqual(stored, { mic: true })

      // alice turns her camera on: bob's tab shows it
      yield* on(() => alice.click("#toggle-cam"))
      yield* on(() => bob.waitForSelector('#users li[data-user-id="alice"][data-cam="true"]', { timeout: 5_000 }))
      yield* on(() => alice.screenshot({ path: screenshotPath("meet-alice.png") }))
      yield* on(() => bob.screenshot({ path: screenshotPath("meet-bob.png") }))

      // bob turns his mic off again, then leaves
      yield* on(() => bob.click("#toggle-mic"))
      yield* on(() => alice.waitForSelector('#users li[data-user-id="bob"][data-mic="false"]', { timeout: 5_000 }))
      yield* on(() => bob.click("#leave"))
      yield* on(() => bob.waitForSelector("#lobby:not([hidden])", { timeout: 5_000 }))
      yield* on(() => alice.waitForSelector('#users li[data-user-id="bob"]', { state: "detached", timeout: 5_000 }))

      assert.deepStrictEqual([...aliceErrors, ...bobWatch.errors], [])
      const origin = new URL(base).origin
      const elsewhere = [...aliceRequests, ...bobWatch.requests].filter((u) => !u.startsWith(origin) && !u.startsWith("data:"))
      assert.deepStrictEqual(elsewhere, [], "the page loads nothing from elsewhere")
    }).pipe(Effect.scoped), 90_000)
})
