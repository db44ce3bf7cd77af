// The inspector acts and tells the truth, in a real browser (Chromium), all
// without a reload: rooms appear and go as they are created and removed,
// a room's members are listed with their gateway, flags and keepalive, the
// gateways' load follows the rooms, and the operator releases, moves,
// closes and drains from the page, each confirmed and its result shown.
// The diagram is readable at 1400 px. Screenshots: inspect-actions.png,
// inspect-diagram.png (.ci/out/screenshots/).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { browserContext, openPage, screenshotPath, skipReason } from "../support/browser.ts"
import { backend } from "../support/database.ts"
import { serviceOnFreshDatabase } from "../support/service.ts"
import {
  answerConfirmation,
  diagramOnScreen,
  expectStatus,
  gatewayRow,
  gatewayShows,
  highlight,
  historyRows,
  memberRows,
  on,
  overlapsOnScreen,
  resultShows,
  rowGone,
  rowShows,
  text,
  textIs
} from "./pageDriver.ts"

describe.skipIf(skipReason !== undefined)(`the inspector's changes in Chromium (${backend})`, () => {
  it.live("create → appears, join → members, close and release from the page → idle, move, drain; delete → gone", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "60s" })
      const context = yield* browserContext({ width: 1400, height: 960 })
      const { page, errors, requests } = yield* openPage(context)
      const changes: Array<string> = []
      page.on("request", (r) => {
        if (r.method() !== "GET") changes.push(`${r.method()} ${new URL(r.url()).pathname}`)
      })
      yield* on(() => page.goto(`${base}/inspect`))
      yield* on(() => page.waitForSelector('#connection[data-status="live"]', { timeout: 15_000 }))
      yield* textIs(page, "#shown", "12 of 12 rooms")

      // Rooms created through the admin route and through seed 003's appear at once.
      expectStatus(yield* api.post("/admin/rooms", { room: 3001, name: "Ops briefing" }), 201)
      const tookAppear = yield* rowShows(page, "3001", { state: "idle", sessions: 0 }, 3000)
      assert.isBelow(tookAppear, 1000)
      assert.strictEqual(yield* text(page, '.row[data-room="3001"] .c-name'), "Ops briefing")
      const meeting = expectStatus(yield* api.post("/api/rooms/create", { name: "Stand-up" }), 201).room
      yield* rowShows(page, meeting.id, { state: "idle" }, 3000)
      assert.strictEqual(yield* text(page, `.row[data-room="${meeting.id}"] .c-name`), "Stand-up")
      yield* textIs(page, "#shown", "14 of 14 rooms")
      yield* textIs(page, '[data-count="idle"]', "14")

      yield* on(() => page.click('.row[data-room="3001"]'))
      yield* textIs(page, "#detail-title", "Room 3001 · Ops briefing")
      yield* textIs(page, "#members-empty", "Nobody is in this room.")
      assert.isTrue(yield* on(() => page.locator("#release").isDisabled()), "an idle room has nothing to release")

      // A user joins on gxy3: the room adopts it; the members show who, where, with which flags.
      expectStatus(yield* api.put("/users/alice", { room: 3001, janus: "gxy3", session: 31, rfid: 31, display: "Alice", camera: true, mic: false, question: true, country: "IL" }), 200)
      yield* rowShows(page, "3001", { state: "assigned", gateway: "gxy3", sessions: 1 }, 3000)
      yield* on(() => page.waitForFunction(() => document.querySelectorAll("#members tbody tr").length === 1))
      assert.deepStrictEqual(yield* memberRows(page), ["Alice alice | gxy3 | camera question | IL"])
      assert.match(yield* text(page, "#members .m-keepalive"), /^[0-5] s ago$/)
      assert.strictEqual(yield* text(page, "#members-count"), "1")
      // its reservation's timer can no longer release it: none is shown
      assert.strictEqual(yield* text(page, '.row[data-room="3001"] .c-timer'), "")
      assert.strictEqual(yield* text(page, ".f-timer"), "none")
      // the gateway hosting it counts it (it once read 0 / 400 and 0 rooms)
      yield* gatewayShows(page, "gxy3", "10 / 400 | 1 | 1 | status unknown | Drain…")
      assert.isTrue(yield* on(() => page.locator("#release").isDisabled()))
      assert.strictEqual(yield* on(() => page.locator("#release").getAttribute("title")), "A room with users keeps its gateway: close their sessions first")

      // Closing her session from the page: asked first, then the room drains, its grace counting down.
      const aliceSession = yield* on(() => page.$eval("#members tr[data-session]", (r) => (r as HTMLElement).dataset.session))
      yield* on(() => page.click('#members tr[data-session] .m-close'))
      const closing = yield* answerConfirmation(page)
      assert.deepStrictEqual(closing, {
        question: "Close Alice's session in room 3001? The room hears it as a leave; a client still connected opens a new session with its next keepalive.",
        label: "Close session"
      })
      assert.strictEqual(yield* resultShows(page, "Closed Alice's session in room 3001 (on gxy3)."), "ok")
      yield* rowShows(page, "3001", { state: "draining", gateway: "gxy3", sessions: 0 }, 3000)
      yield* textIs(page, "#members-empty", "Nobody is in this room.")
      assert.match(yield* text(page, '.row[data-room="3001"] .c-timer'), /^releases in (1 min 00 s|5\d s)$/)

      // Released from the page: idle at once, the gateway freed.
      yield* on(() => page.click("#release"))
      const releasing = yield* answerConfirmation(page)
      assert.deepStrictEqual(releasing, { question: "Release room 3001 from gxy3? The gateway is freed at once; nobody is in the room.", label: "Release" })
      assert.strictEqual(yield* resultShows(page, "Room 3001 released from gxy3: it is idle."), "ok")
      yield* rowShows(page, "3001", { state: "idle", gateway: "", sessions: 0 }, 3000)
      assert.strictEqual(yield* text(page, '.row[data-room="3001"] .c-timer'), "")
      yield* on(() => page.waitForFunction(() => document.querySelector("#history tbody .h-event")?.textContent === "RELEASE.REQUESTED"))
      const steps = yield* historyRows(page)
      assert.deepStrictEqual(steps.slice(0, 2), ["draining RELEASE.REQUESTED idle", "assigned SESSION.LEFT draining"])
      // the room adopted her gateway as it woke (loading her session) or as it heard her join
      assert.match(steps[2]!, /^idle (ROOM\.LOADED|SESSION\.JOINED) assigned$/)
      assert.deepStrictEqual(yield* highlight(page), { current: ["idle"], taken: ["draining→idle: RELEASE.REQUESTED"], edges: 1 })
      yield* gatewayShows(page, "gxy3", "0 / 400 | 0 | 0 | status unknown | Drain…")

      // Moved from the page to a gateway the operator names.
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 3001 }), 200)
      yield* rowShows(page, "3001", { state: "assigned", gateway: janus }, 3000)
      const target = janus === "gxy5" ? "gxy6" : "gxy5"
      yield* on(() => page.selectOption("#reassign-to", target))
      yield* on(() => page.click("#reassign"))
      assert.deepStrictEqual(yield* answerConfirmation(page), {
        question: `Move room 3001 from ${janus} to ${target}? Its 0 users stay on ${janus} until they reconnect.`,
        label: "Reassign"
      })
      assert.strictEqual(yield* resultShows(page, `Room 3001 moved from ${janus} to ${target}: it is assigned.`), "ok")
      yield* rowShows(page, "3001", { state: "assigned", gateway: target }, 3000)
      yield* gatewayShows(page, target, "10 / 400 | 1 | 0 | status unknown | Drain…")

      // A gateway drained from the page keeps its rooms, takes no new ones, and is no longer offered as a target.
      yield* on(() => page.click('#gateways tr[data-gateway="gxy7"] .g-drain'))
      assert.deepStrictEqual(yield* answerConfirmation(page), { question: "Drain gxy7? It keeps its 0 rooms and takes no new ones.", label: "Drain" })
      assert.strictEqual(yield* resultShows(page, "gxy7 is draining: it keeps its 0 rooms and takes no new ones."), "ok")
      yield* gatewayShows(page, "gxy7", "0 / 400 | 0 | 0 | status unknown draining | Undrain…")
      const offered = yield* on(() => page.$$eval("#reassign-to option", (options) => options.map((o) => (o as HTMLOptionElement).value)))
      assert.notInclude(offered, "gxy7")
      assert.notInclude(offered, target, "not the room's own gateway")
      assert.include(offered, "", "where the balancer chooses")
      // Cancelled: nothing is sent.
      const sent = changes.length
      yield* on(() => page.click('#gateways tr[data-gateway="gxy7"] .g-drain'))
      assert.strictEqual((yield* answerConfirmation(page, "cancel")).label, "Undrain")
      assert.strictEqual(changes.length, sent)
      assert.strictEqual(yield* gatewayRow(page, "gxy7"), "0 / 400 | 0 | 0 | status unknown draining | Undrain…")
      yield* on(() => page.click('#gateways tr[data-gateway="gxy7"] .g-drain'))
      yield* answerConfirmation(page)
      assert.strictEqual(yield* resultShows(page, "gxy7 takes new rooms again."), "ok")
      yield* gatewayShows(page, "gxy7", "0 / 400 | 0 | 0 | status unknown | Drain…")

      // A refusal is shown as the service says it: the room's user joined meanwhile.
      expectStatus(yield* api.post(`/admin/assignments/3001/release`, undefined), 200)
      yield* rowShows(page, "3001", { state: "idle" }, 3000)
      expectStatus(yield* api.post("/v2/room_server", { room: 3001 }), 200)
      yield* rowShows(page, "3001", { state: "assigned", sessions: 0 }, 3000)
      yield* on(() => page.click("#release"))
      yield* on(() => page.waitForSelector("#confirm-dialog[open]"))
      const placed = (yield* api.get("/admin/machines?room=3001")).body.rooms[0].gateway
      expectStatus(yield* api.put("/users/bob", { room: 3001, janus: placed, session: 32, rfid: 32, display: "Bob" }), 200)
      yield* answerConfirmation(page)
      assert.strictEqual(yield* resultShows(page, "Room 3001 was not released: room 3001 has 1 users: only an empty room's assignment is released (409)"), "error")

      yield* gatewayShows(page, placed, "10 / 400 | 1 | 1 | status unknown | Drain…")
      yield* on(() => page.screenshot({ path: screenshotPath("inspect-actions.png"), fullPage: true }))
      assert.strictEqual(yield* on(() => page.evaluate(() => document.documentElement.scrollWidth)), 1400, "nothing wider than the window")

      // The diagram at 1400 px: drawn at its size (labels of 12 px), nothing cut off or overlapping, loops beside their states.
      const drawn = yield* diagramOnScreen(page)
      assert.isAtLeast(drawn.smallest, 11)
      assert.isFalse(drawn.scrolls)
      assert.deepStrictEqual(drawn.outside, [])
      assert.isAbove(drawn.texts, 10)
      assert.deepStrictEqual((yield* overlapsOnScreen(page)).found, [])
      yield* on(() => page.locator(".diagram svg").screenshot({ path: screenshotPath("inspect-diagram.png") }))

      // Removed rooms go, the selection says so.
      expectStatus(yield* api.delete(`/admin/sessions/${(yield* api.get("/admin/sessions?room=3001")).body.sessions[0].id}`), 200)
      yield* rowShows(page, "3001", { state: "draining" }, 3000)
      yield* on(() => page.waitForFunction(() => document.querySelector("#history tbody .h-event")?.textContent === "SESSION.LEFT"))
      expectStatus(yield* api.delete("/admin/rooms/3001"), 200)
      yield* rowGone(page, "3001", 3000)
      yield* textIs(page, "#detail-title", "Room 3001 · removed")
      yield* textIs(page, "#shown", "13 of 13 rooms")

      assert.deepStrictEqual(requests.filter((url) => !url.startsWith(base)), [])
      // the one refusal, as the browser logs any 4xx
      assert.deepStrictEqual(errors, ["Failed to load resource: the server responded with a status of 409 (Conflict)"])
      assert.deepStrictEqual(changes, [
        `DELETE /admin/sessions/${aliceSession}`,
        "POST /admin/assignments/3001/release",
        `POST /admin/assignments/3001/reassign`,
        "PATCH /admin/gateways/gxy7",
        "PATCH /admin/gateways/gxy7",
        "POST /admin/assignments/3001/release"
      ])
    }).pipe(Effect.scoped), 120_000)
})
