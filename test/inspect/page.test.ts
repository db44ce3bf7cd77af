// The room inspector in a real browser (Chromium): a room followed live
// through its lifecycle without reloading, the diagram and history of the
// selected room, filters, reconnection, the token prompt, 10,000 rooms, and
// a screenshot CI keeps (.ci/out/screenshots/inspect.png).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import type { Database } from "../../src/db/database.ts"
import { browserContext, openPage, screenshotPath, skipReason } from "../support/browser.ts"
import { backend, freshDatabase } from "../support/database.ts"
import { tcpRelay } from "../support/proxy.ts"
import { databaseLayerFor, prepared, query } from "../support/rooms.ts"
import { client, runService, serviceOnFreshDatabase } from "../support/service.ts"
import { expectStatus, highlight, historyRows, on, overlapsOnScreen, rowShows, text } from "./pageDriver.ts"

const leaving = (feed: number, gateway: string, room: number) => ({
  emitter: gateway,
  type: 64,
  event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", room, id: String(feed) } }
})

if (skipReason !== undefined) console.warn(`The page tests are ${skipReason}`)

describe.skipIf(skipReason !== undefined)(`GET /inspect in Chromium (${backend})${skipReason ? ` — ${skipReason}` : ""}`, () => {
  it.live("follows a room live through assigned, draining and idle; shows its diagram and history", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "5s" })
      const context = yield* browserContext()
      const { page, errors, requests } = yield* openPage(context)
      yield* on(() => page.goto(`${base}/inspect`))
      yield* on(() => page.waitForSelector('#connection[data-status="live"]', { timeout: 15_000 }))
      yield* rowShows(page, "2171", { state: "idle" }, 5000)
      assert.strictEqual(yield* text(page, '[data-count="idle"]'), "12")
      assert.strictEqual(yield* text(page, "#shown"), "12 of 12 rooms")

      // Other rooms in use, for the filters and the screenshot.
      const busy = expectStatus(yield* api.post("/v2/room_server", { room: 2172 }), 200).janus
      for (const [user, session] of [["ann", 21], ["bob", 22]] as const) {
        expectStatus(yield* api.put(`/users/${user}`, { room: 2172, janus: busy, session, rfid: session, display: user }), 200)
      }
      expectStatus(yield* api.post("/v2/room_server", { room: 2176 }), 200)

      // A server is requested for room 2171 and a user joins: the row shows it within 1 s, no reload.
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      expectStatus(yield* api.put("/users/u1", { room: 2171, janus, session: 1, rfid: 101, display: "User 1" }), 200)
      const tookAssigned = yield* rowShows(page, "2171", { state: "assigned", gateway: janus, sessions: 1 }, 1000)
      assert.isBelow(tookAssigned, 1000)
      yield* on(() => page.waitForFunction(() => document.querySelector('[data-count="assigned"]')?.textContent === "3"))
      yield* on(() => page.waitForFunction((g) => document.querySelector(`tr[data-gateway="${g}"] .load`)?.textContent !== "0", janus, { timeout: 5000 }))

      // Selecting it: the diagram highlights its state and the transition it took; its history is listed.
      yield* on(() => page.click('.row[data-room="2171"]'))
      yield* on(() => page.waitForSelector('.diagram .state.current[data-state="assigned"]'))
      yield* on(() => page.waitForFunction(() => document.querySelectorAll("#history tbody tr").length === 3))
      // its last step was a join: it changes no state, so only the state is highlighted
      assert.deepStrictEqual(yield* highlight(page), { current: ["assigned"], taken: [], edges: 0 })
      assert.deepStrictEqual(yield* historyRows(page), [
        "assigned SESSION.JOINED assigned",
        "assigning BALANCER.DONE assigned",
        "idle SERVER.REQUESTED assigning"
      ])
      assert.strictEqual(yield* text(page, "#detail-title"), "Room 2171 · Room 1")

      // The last session leaves: draining, with the grace counting down.
      expectStatus(yield* api.post("/event", leaving(101, janus, 2171)), 200)
      const tookDraining = yield* rowShows(page, "2171", { state: "draining", gateway: janus, sessions: 0 }, 1000)
      assert.isBelow(tookDraining, 1000)
      // the grace's timer will release the room; the reservation of 2176 too; 2172's users keep theirs
      assert.match(yield* text(page, '.row[data-room="2171"] .c-timer'), /^releases in [1-5] s$/)
      assert.match(yield* text(page, '.row[data-room="2176"] .c-timer'), /^releases in (2 min 00 s|1 min [0-5]\d s)$/)
      assert.strictEqual(yield* text(page, '.row[data-room="2172"] .c-timer'), "")
      yield* on(() => page.waitForFunction(() => document.querySelectorAll("#history tbody tr").length === 4))
      assert.deepStrictEqual(yield* highlight(page), { current: ["draining"], taken: ["assigned→draining: SESSION.LEFT [isLastSession]"], edges: 1 })
      assert.strictEqual((yield* historyRows(page))[0], "assigned SESSION.LEFT draining")
      assert.match(yield* text(page, ".f-timer"), /^releases in [1-5] s \(after drainGrace, \d\d:\d\d:\d\d\)$/)
      const before = yield* text(page, ".f-timer")
      yield* on(() => page.waitForFunction((b) => document.querySelector(".f-timer")?.textContent !== b, before, { timeout: 2500 }))
      yield* on(() => page.screenshot({ path: screenshotPath("inspect.png"), fullPage: true }))

      // After the grace: idle.
      yield* rowShows(page, "2171", { state: "idle", sessions: 0 }, 10_000)
      yield* on(() => page.waitForFunction(() => document.querySelectorAll("#history tbody tr").length === 5))
      assert.deepStrictEqual(yield* highlight(page), { current: ["idle"], taken: ["draining→idle: after drainGrace"], edges: 1 })
      assert.deepStrictEqual(yield* historyRows(page), [
        "draining after drainGrace idle",
        "assigned SESSION.LEFT draining",
        "assigned SESSION.JOINED assigned",
        "assigning BALANCER.DONE assigned",
        "idle SERVER.REQUESTED assigning"
      ])
      assert.strictEqual(yield* text(page, '.row[data-room="2171"] .c-gateway'), "")

      // The drawing has no overlapping labels.
      const drawn = yield* overlapsOnScreen(page)
      assert.isAbove(drawn.count, 10)
      assert.deepStrictEqual(drawn.found, [])

      // Filters: by state (also from its count chip), by gateway, by search.
      yield* on(() => page.selectOption("#filter-state", "assigned"))
      yield* on(() => page.waitForFunction(() => document.querySelector("#shown")?.textContent === "2 of 12 rooms"))
      assert.deepStrictEqual(yield* on(() => page.$$eval(".rows .row", (rows) => rows.map((r) => (r as HTMLElement).dataset.room))), ["2172", "2176"])
      yield* on(() => page.selectOption("#filter-gateway", busy))
      yield* on(() => page.waitForFunction(() => document.querySelector("#shown")?.textContent === "1 of 12 rooms"))
      yield* on(() => page.click('.chip[data-state=""]'))
      yield* on(() => page.selectOption("#filter-gateway", ""))
      yield* on(() => page.fill("#search", "2180"))
      yield* on(() => page.waitForFunction(() => document.querySelector("#shown")?.textContent === "1 of 12 rooms"))
      assert.deepStrictEqual(yield* on(() => page.$$eval(".rows .row", (rows) => rows.map((r) => (r as HTMLElement).dataset.room))), ["2180"])

      // Everything came from the service itself, without errors.
      assert.deepStrictEqual(requests.filter((url) => !url.startsWith(base)), [])
      assert.deepStrictEqual(errors, [])
    }).pipe(Effect.scoped), 90_000)

  it.live("a gateway holding a young room's expected size shows the reserved part beside its load, and its real load", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true", AVG_ROOM_OCCUPANCY: "10", DRAIN_GRACE: "300ms", ASSIGNMENT_TTL: "1m" })
      // A class meets twice with 14: it learns it will be 14.
      for (const lesson of [1, 2]) {
        const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
        for (let i = 1; i <= 14; i++) {
          const feed = 1000 * lesson + i
          expectStatus(yield* api.put(`/users/s${feed}`, { room: 2171, janus, session: feed, rfid: feed, display: `Student ${i}` }), 200)
        }
        for (let i = 1; i <= 14; i++) expectStatus(yield* api.post("/event", leaving(1000 * lesson + i, janus, 2171)), 200)
        yield* Effect.flatMap(api.get("/servers"), (r) =>
          (r.body as ReadonlyArray<{ name: string; rooms: number }>).find((g) => g.name === janus)?.rooms === 0 ? Effect.void : Effect.fail(r)).pipe(
            Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 })
          )
      }
      // Placed again, nobody there yet: 14 held, 4 of them beyond the average.
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      const context = yield* browserContext()
      const { page, errors } = yield* openPage(context)
      yield* on(() => page.goto(`${base}/inspect`))
      yield* on(() => page.waitForSelector(`tr[data-gateway="${janus}"] .reserved`, { timeout: 15_000 }))
      assert.strictEqual(yield* text(page, `tr[data-gateway="${janus}"] .load`), "14")
      assert.strictEqual(yield* text(page, `tr[data-gateway="${janus}"] .reserved`), "4 reserved")
      assert.match((yield* on(() => page.getAttribute(`tr[data-gateway="${janus}"] .reserved`, "title"))) ?? "", /real load 10$/)
      // another gateway, holding nothing, shows no reserved part
      const other = janus === "gxy1" ? "gxy2" : "gxy1"
      assert.strictEqual(yield* on(() => page.$$eval(`tr[data-gateway="${other}"] .reserved`, (found) => found.length)), 0)
      assert.deepStrictEqual(errors, [])
    }).pipe(Effect.scoped), 90_000)

  it.live("reconnects by itself after the connection drops, and catches up on what changed meanwhile", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      // The browser reaches the service through a relay the test can cut, as a network would.
      const relay = yield* tcpRelay({ host: "127.0.0.1", port: Number(new URL(base).port) })
      const context = yield* browserContext()
      const { page, errors } = yield* openPage(context)
      yield* on(() => page.goto(`http://127.0.0.1:${relay.port}/inspect?room=2173`))
      yield* on(() => page.waitForSelector('#connection[data-status="live"]', { timeout: 15_000 }))
      yield* on(() => page.waitForSelector('.diagram .state.current[data-state="idle"]'))

      yield* relay.cut
      yield* on(() => page.waitForSelector('#connection[data-status="reconnecting"]', { timeout: 5000 }))
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2173 }), 200)
      yield* Effect.sleep("1500 millis")
      yield* relay.restore
      yield* on(() => page.waitForSelector('#connection[data-status="live"]', { timeout: 15_000 }))
      yield* rowShows(page, "2173", { state: "assigned", gateway: janus }, 5000)
      yield* on(() => page.waitForFunction(() => document.querySelectorAll("#history tbody tr").length === 2))
      assert.deepStrictEqual((yield* highlight(page)).current, ["assigned"])

      // and it stays live: the next change arrives over the new connection
      expectStatus(yield* api.put("/users/u1", { room: 2173, janus, session: 1, rfid: 101, display: "User 1" }), 200)
      yield* rowShows(page, "2173", { state: "assigned", sessions: 1 }, 1000)
      assert.deepStrictEqual(errors.filter((e) => !e.startsWith("Failed to load resource")), [])
    }).pipe(Effect.scoped), 60_000)

  it.live("asks for a token when the service answers 401, and sends it as a bearer token on every call", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const context = yield* browserContext()
      const { page } = yield* openPage(context)
      // Stands in for the admin role: /admin answers 401 unless the right bearer token comes with it.
      const seen: Array<string> = []
      yield* on(() =>
        context.route(`${base}/admin/**`, (route) => {
          const authorization = route.request().headers()["authorization"] ?? "none"
          seen.push(`${new URL(route.request().url()).pathname} ${authorization}`)
          return authorization === "Bearer s3cret"
            ? route.continue()
            : route.fulfill({ status: 401, contentType: "application/json", body: JSON.stringify({ error: "a bearer token is required" }) })
        }))
      yield* on(() => page.goto(`${base}/inspect`))
      yield* on(() => page.waitForSelector("#token-dialog[open]"))
      assert.strictEqual(yield* text(page, "#token-reason"), "This page needs an administrator's token.")
      yield* on(() => page.fill("#token", "wrong"))
      yield* on(() => page.click("#token-form button"))
      yield* on(() => page.waitForFunction(() => document.querySelector("#token-reason")?.textContent?.startsWith("That token was refused")))
      yield* on(() => page.fill("#token", "s3cret"))
      yield* on(() => page.click("#token-form button"))
      yield* on(() => page.waitForSelector('#connection[data-status="live"]', { timeout: 15_000 }))
      yield* rowShows(page, "2171", { state: "idle" }, 5000)
      assert.strictEqual(yield* on(() => page.evaluate(() => sessionStorage.getItem("room-orchestrator.token"))), "s3cret")

      // the live stream also carries the token
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      yield* rowShows(page, "2171", { state: "assigned", gateway: janus }, 2000)
      const paths = new Set(seen.filter((s) => s.endsWith("Bearer s3cret")).map((s) => s.split(" ")[0]))
      assert.includeMembers([...paths], ["/admin/machine", "/admin/machines", "/admin/machines/events", "/admin/gateway-loads"])
      assert.include(seen, "/admin/machine none")
      assert.include(seen, "/admin/machine Bearer wrong")
    }).pipe(Effect.scoped), 60_000)

  it.live("stays usable with 10,000 rooms: every room listed, a few dozen rows drawn, changes still live", () =>
    Effect.gen(function*() {
      // 10,000 more rooms, written before the service starts (ids 100001…110000).
      const db = yield* freshDatabase
      yield* Effect.scoped(Layer.build(Layer.effectDiscard(query(`
          INSERT INTO rooms (room, name, join_code)
          SELECT 100000 + i, 'Load room ' || i, 'L' || lpad(upper(to_hex(i)), 5, '0') FROM generate_series(1, 10000) AS i`)).pipe(
        Layer.provide(prepared(databaseLayerFor(db)))
      )))
      const base = yield* runService(databaseLayerFor(db) as unknown as typeof Database, { SCALE: "true" })
      const api = client(base)
      const context = yield* browserContext()
      const { page, errors } = yield* openPage(context)
      const started = Date.now()
      yield* on(() => page.goto(`${base}/inspect`))
      yield* on(() => page.waitForFunction(() => document.querySelector("#shown")?.textContent === "10012 of 10012 rooms", undefined, { timeout: 20_000 }))
      const loaded = Date.now() - started
      assert.isBelow(loaded, 15_000, `loaded in ${loaded} ms`)
      assert.strictEqual(yield* text(page, '[data-count="idle"]'), "10012")
      const drawn = yield* on(() => page.$$eval(".rows .row", (rows) => rows.length))
      assert.isAtMost(drawn, 60, "only the rows in view are in the document")

      // Scrolled to the end, the last room is there; a change to it shows within 1 s.
      yield* on(() => page.$eval("#rows", (el) => el.scrollTo(0, el.scrollHeight)))
      yield* rowShows(page, "110000", { state: "idle" }, 2000)
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 110000 }), 200)
      const took = yield* rowShows(page, "110000", { state: "assigned", gateway: janus }, 1000)
      assert.isBelow(took, 1000)
      assert.strictEqual(yield* text(page, '[data-count="assigned"]'), "1")

      // Searching narrows 10,012 rooms at once.
      yield* on(() => page.fill("#search", "10999"))
      yield* on(() => page.waitForFunction(() => document.querySelector("#shown")?.textContent === "10 of 10012 rooms"))
      assert.deepStrictEqual(
        yield* on(() => page.$$eval(".rows .row", (rows) => rows.map((r) => (r as HTMLElement).dataset.room))),
        Array.from({ length: 10 }, (_, i) => String(109990 + i))
      )
      assert.deepStrictEqual(errors, [])
    }).pipe(Effect.scoped), 120_000)
})
