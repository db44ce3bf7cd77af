// Pages served by the service itself (the room inspector, the meeting page):
// the HTML of a folder, its main.ts and style.css bundled by esbuild in memory
// on first use. Nothing generated is committed and nothing is fetched from
// elsewhere: the pages work on a machine with no internet access.
import { Effect, Schema } from "effect"
import { build } from "esbuild"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { readFile } from "node:fs/promises"

export interface PageAssets {
  readonly html: string
  readonly js: string
  readonly css: string
}

export class PageBuildFailed extends Schema.TaggedError<PageBuildFailed>()("PageBuildFailed", {
  message: Schema.String
}) {}

/** Bundles `dir` (index.html, main.ts, style.css); `what` names the page in errors. */
export const buildPage = (dir: string, what: string): Effect.Effect<PageAssets, PageBuildFailed> =>
  Effect.tryPromise({
    try: async () => {
      const result = await build({
        entryPoints: [`${dir}main.ts`, `${dir}style.css`],
        bundle: true,
        write: false,
        outdir: "page",
        format: "iife",
        platform: "browser",
        target: ["chrome110", "firefox115", "safari16"],
        minify: true,
        legalComments: "eof",
        logLevel: "silent"
      })
      const output = (ext: string) => result.outputFiles.find((f) => f.path.endsWith(ext))?.text ?? ""
      return { html: await readFile(`${dir}index.html`, "utf8"), js: output(".js"), css: output(".css") }
    },
    catch: (e) => new PageBuildFailed({ message: `${what} could not be built: ${e instanceof Error ? e.message : String(e)}` })
  })

const noStore = { "cache-control": "no-store" }

/**
 * `GET path` (the HTML, as `html` makes it from the page's file), `path/app.js`
 * and `path/app.css`, built once. The assets hold no data, so they are
 * public: a browser cannot send a token when it opens a page.
 */
export const pageRoutes = <R = never>(
  path: `/${string}`,
  dir: string,
  what: string,
  html: Effect.Effect<(file: string) => string, never, R> = Effect.succeed((file: string) => file)
) =>
  HttpRouter.use(Effect.fn(function*(router) {
    const page = yield* html
    const assets = yield* Effect.cached(buildPage(dir, what))

    const asset = (pick: (a: PageAssets) => string, contentType: string) =>
      assets.pipe(
        Effect.map((a) => HttpServerResponse.text(pick(a), { contentType, headers: noStore })),
        Effect.catchTag("PageBuildFailed", (e) =>
          Effect.logError("Page unavailable").pipe(
            Effect.annotateLogs({ page: path, cause: e.message }),
            Effect.as(HttpServerResponse.jsonUnsafe({ error: e.message }, { status: 500 }))
          ))
      )

    yield* router.add("GET", path, asset((a) => page(a.html), "text/html; charset=utf-8"))
    yield* router.add("GET", `${path}/app.js`, asset((a) => a.js, "text/javascript; charset=utf-8"))
    yield* router.add("GET", `${path}/app.css`, asset((a) => a.css, "text/css; charset=utf-8"))
  }))
