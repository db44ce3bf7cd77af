// A real Chromium for page tests: the Debian package's /usr/bin/chromium,
// driven by playwright-core (which never downloads a browser of its own).
// Missing, the page tests are skipped with the reason, or fail when
// REQUIRE_BROWSER=1 (CI sets it after installing the package).
import { Effect } from "effect"
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type BrowserContext, chromium, type Page } from "playwright-core"

export const chromiumPath = "/usr/bin/chromium"
export const browserRequired = process.env.REQUIRE_BROWSER === "1"
export const browserMissing = !existsSync(chromiumPath)

/** Why page tests do not run here, if they do not. */
export const skipReason = browserMissing && !browserRequired
  ? `skipped: ${chromiumPath} is missing (apt-get install -y chromium; REQUIRE_BROWSER=1 makes this a failure)`
  : undefined

const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/** A fresh browser profile, closed and removed with the scope. */
export const browserContext = (viewport = { width: 1440, height: 960 }) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      if (browserMissing) {
        throw new Error(`REQUIRE_BROWSER=1 but ${chromiumPath} is missing: install it with apt-get install -y chromium`)
      }
      const profile = mkdtempSync(join(tmpdir(), "room-orchestrator-chromium-"))
      // launchPersistentContext passes the fresh profile as --user-data-dir.
      const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args, viewport })
      return { context, profile }
    }),
    ({ context, profile }) =>
      Effect.promise(async () => {
        await context.close()
        rmSync(profile, { recursive: true, force: true })
      })
  ).pipe(Effect.map(({ context }) => context))

/** A page of the context, with its console errors and every URL it requested. */
export const openPage = (context: BrowserContext) =>
  Effect.promise(async () => {
    const page = context.pages()[0] ?? (await context.newPage())
    return { page, ...watchPage(page) }
  })

/** A page's console errors and every URL it requests from now on. */
export const watchPage = (page: Page) => {
  const errors: Array<string> = []
  const requests: Array<string> = []
  page.on("pageerror", (e) => errors.push(e.message))
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text())
  })
  page.on("request", (r) => requests.push(r.url()))
  return { errors, requests }
}

/** Where CI keeps screenshots as artifacts. */
export const screenshotDir = fileURLToPath(new URL("../../.ci/out/screenshots/", import.meta.url))

export const screenshotPath = (name: string) => {
  mkdirSync(screenshotDir, { recursive: true })
  return join(screenshotDir, name)
}
