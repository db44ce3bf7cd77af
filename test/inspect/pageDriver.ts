// What the inspector's page tests read off the page, as an operator sees
// it: a room's row, the selected room's history, members and diagram, the
// gateways, and the confirmations and results of the operator's changes.
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import type { Page } from "playwright-core"
import type { Reply } from "../support/service.ts"

export const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

export const on = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Waits until the room's row shows `state` (and the gateway and sessions given); answers how long it took. */
export const rowShows = (page: Page, room: string, want: { state: string; gateway?: string; sessions?: number }, timeout: number) =>
  on(async () => {
    const start = Date.now()
    await page.waitForFunction(({ room, want }) => {
      const row = document.querySelector<HTMLElement>(`.row[data-room="${room}"]`)
      return row !== null && row.dataset.state === want.state &&
        (want.gateway === undefined || row.querySelector(".c-gateway")?.textContent === want.gateway) &&
        (want.sessions === undefined || row.querySelector(".c-sessions")?.textContent === String(want.sessions))
    }, { room, want }, { timeout, polling: 20 })
    return Date.now() - start
  })

/** Waits until the room has no row. */
export const rowGone = (page: Page, room: string, timeout: number) =>
  on(() => page.waitForFunction((room) => document.querySelector(`.row[data-room="${room}"]`) === null, room, { timeout, polling: 20 }))

export const text = (page: Page, selector: string) => on(() => page.locator(selector).first().innerText())

/** Waits until the element's text is `want`. */
export const textIs = (page: Page, selector: string, want: string, timeout = 5000) =>
  on(() =>
    page.waitForFunction(({ selector, want }) => document.querySelector<HTMLElement>(selector)?.innerText === want, { selector, want }, { timeout })
      .catch(async (e: unknown) => {
        const seen = await page.locator(selector).first().innerText().catch(() => "(no such element)")
        throw new Error(`${selector} shows ${JSON.stringify(seen)}, not ${JSON.stringify(want)}: ${String(e)}`)
      })
  )

export const historyRows = (page: Page) =>
  on(() =>
    page.$$eval("#history tbody tr", (rows) =>
      rows.map((r) => [".h-from", ".h-event", ".h-to"].map((c) => r.querySelector(c)?.textContent ?? "").join(" ")))
  )

/** The selected room's members: "name | gateway | flags on | country". */
export const memberRows = (page: Page) =>
  on(() =>
    page.$$eval("#members tbody tr", (rows) =>
      rows.map((r) =>
        [
          r.querySelector(".m-user")?.textContent ?? "",
          r.querySelector(".m-gateway")?.textContent ?? "",
          [...r.querySelectorAll(".mflag.on")].map((f) => f.textContent).join(" "),
          r.querySelector(".m-country")?.textContent ?? ""
        ].join(" | ")
      ))
  )

/** A gateway's row: "load / capacity | rooms | users | flags | button". */
export const gatewayRow = (page: Page, name: string) =>
  on(() =>
    page.$eval(`#gateways tr[data-gateway="${name}"]`, (r) =>
      [
        `${r.querySelector(".load")?.textContent} / ${r.querySelector(".capacity")?.textContent}`,
        r.querySelector(".g-rooms")?.textContent,
        r.querySelector(".g-users")?.textContent,
        [...r.querySelectorAll(".g-flags .flag")].map((f) => f.textContent).join(" "),
        r.querySelector(".g-drain")?.textContent
      ].join(" | "))
  )

/** Waits until the gateway's row reads `want` (see gatewayRow). */
export const gatewayShows = (page: Page, name: string, want: string, timeout = 8000) =>
  on(() =>
    page.waitForFunction(({ name, want }) => {
      const r = document.querySelector(`#gateways tr[data-gateway="${name}"]`)
      if (r === null) return false
      return [
        `${r.querySelector(".load")?.textContent} / ${r.querySelector(".capacity")?.textContent}`,
        r.querySelector(".g-rooms")?.textContent,
        r.querySelector(".g-users")?.textContent,
        [...r.querySelectorAll(".g-flags .flag")].map((f) => f.textContent).join(" "),
        r.querySelector(".g-drain")?.textContent
      ].join(" | ") === want
    }, { name, want }, { timeout, polling: 50 })
  )

/** Answers the confirmation's question and presses its `button` ("ok" or "cancel"). */
export const answerConfirmation = (page: Page, button: "ok" | "cancel" = "ok") =>
  on(async () => {
    await page.waitForSelector("#confirm-dialog[open]")
    const question = await page.locator("#confirm-text").innerText()
    const label = await page.locator("#confirm-ok").innerText()
    await page.click(button === "ok" ? "#confirm-ok" : "#confirm-cancel")
    await page.waitForSelector("#confirm-dialog:not([open])", { state: "attached" })
    return { question, label }
  })

/** Waits for the result of a change in the header; answers its outcome and text. */
export const resultShows = (page: Page, want: string, timeout = 5000) =>
  on(async () => {
    await page.waitForFunction((want) => {
      const el = document.querySelector<HTMLElement>("#action-result")
      return el !== null && !el.hidden && el.textContent === want
    }, want, { timeout }).catch(async (e: unknown) => {
      throw new Error(`the result reads ${JSON.stringify(await page.locator("#action-result").innerText())}, not ${JSON.stringify(want)}: ${String(e)}`)
    })
    return page.$eval("#action-result", (el) => (el as HTMLElement).dataset.outcome)
  })

/** The diagram's highlight: the current state and the label lines of the last transition. */
export const highlight = (page: Page) =>
  on(() =>
    page.evaluate(() => ({
      current: [...document.querySelectorAll<SVGGElement>(".diagram .state.current")].map((g) => g.dataset.state),
      taken: [...document.querySelectorAll<SVGGElement>(".diagram .label.taken")].map((g) =>
        `${g.dataset.from}→${g.dataset.to}: ${[...g.querySelectorAll("tspan.taken")].map((t) => t.textContent).join(" ")}`),
      edges: document.querySelectorAll(".diagram .edge.taken").length
    }))
  )

/** Pairs of drawn labels and states whose boxes overlap on screen. */
export const overlapsOnScreen = (page: Page) =>
  on(() =>
    page.evaluate(() => {
      const boxes = [
        ...[...document.querySelectorAll(".diagram .label text")].map((t) => [`label ${t.textContent}`, t.getBoundingClientRect()] as const),
        ...[...document.querySelectorAll(".diagram .state rect")].map((r) => [`state ${r.parentElement?.dataset.state}`, r.getBoundingClientRect()] as const)
      ]
      const found: Array<string> = []
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, b] = [boxes[i]![1], boxes[j]![1]]
          if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) found.push(`${boxes[i]![0]} / ${boxes[j]![0]}`)
        }
      }
      return { found, count: boxes.length }
    })
  )

/**
 * How the diagram reads on screen: the smallest label text as drawn (font
 * size times the drawing's scale), whether it scrolls, and everything drawn
 * outside the visible drawing.
 */
export const diagramOnScreen = (page: Page) =>
  on(() =>
    page.evaluate(() => {
      const host = document.querySelector<HTMLElement>(".diagram")!
      const svg = host.querySelector("svg")!
      const frame = svg.getBoundingClientRect()
      const visible = host.getBoundingClientRect()
      const scale = frame.width / svg.viewBox.baseVal.width
      const texts = [...svg.querySelectorAll("text")]
      const smallest = Math.min(...texts.map((t) => parseFloat(getComputedStyle(t).fontSize) * scale))
      const outside: Array<string> = []
      for (const node of svg.querySelectorAll("path, rect, text, circle")) {
        if (node.closest("defs") !== null) continue
        const r = node.getBoundingClientRect()
        const within = (b: DOMRect) => r.left >= b.left - 0.5 && r.right <= b.right + 0.5 && r.top >= b.top - 0.5 && r.bottom <= b.bottom + 0.5
        if (!within(frame) || !within(visible)) {
          const g = node.closest<SVGGElement>("[data-from], [data-state]")
          outside.push(`${node.tagName} ${g?.dataset.state ?? `${g?.dataset.from}→${g?.dataset.to}`}`)
        }
      }
      return {
        smallest: Math.round(smallest * 10) / 10,
        scrolls: host.scrollWidth > host.clientWidth,
        outside,
        texts: texts.length
      }
    })
  )
