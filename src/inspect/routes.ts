// The inspection page (GET /inspect and its two assets) and the live stream
// of room changes (GET /admin/machines/events, Server-Sent Events). The page
// holds no data: what it shows comes from the /admin endpoints.
import { Duration, Effect, Stream } from "effect"
import { HttpRouter, type HttpServerRequest, HttpServerResponse } from "effect/http"
import { fileURLToPath } from "node:url"
import { AppConfig } from "../config.ts"
import { type CatalogChange, RoomCatalog } from "../rooms/catalog.ts"
import { type FeedItem, RoomChanges } from "../rooms/changes.ts"
import { loginPage } from "./login.ts"
import { catalogView, changeView } from "./views.ts"

/** A comment line this often keeps proxies from closing an idle stream and lets the page notice a dead one. */
export const heartbeatInterval = Duration.seconds(15)

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

/**
 * The stream a reader gets: `ready` once it is subscribed (load the listing
 * after it, so no change falls between), then one `room` event per change,
 * one `catalog` event per room created, changed or removed, a `reset` when
 * it fell behind and changes were dropped (reload), and a heartbeat comment.
 */
export const changeFrames = (
  feed: Stream.Stream<FeedItem>,
  asStrings: boolean,
  heartbeat: Duration.Input = heartbeatInterval,
  catalog: Stream.Stream<CatalogChange> = Stream.empty
): Stream.Stream<string> => {
  let last: number | undefined
  const changes = Stream.map(feed, (item) => {
    const gap = last !== undefined && item.position !== last + 1
    last = item.position
    const change = frame("room", changeView(asStrings)(item.change))
    return gap ? frame("reset", { reason: "changes were dropped for this reader" }) + change : change
  })
  return Stream.concat(
    Stream.succeed(`retry: 1000\n${frame("ready", { now: new Date().toISOString() })}`),
    Stream.mergeAll([
      changes,
      Stream.map(catalog, (c) => frame("catalog", catalogView(asStrings)(c))),
      Stream.map(Stream.tick(heartbeat), () => ": heartbeat\n\n")
    ], { concurrency: "unbounded" })
  )
}

const noStore = { "cache-control": "no-store" }

/**
 * Completes once the server stops listening (a graceful shutdown has begun):
 * the server waits for in-flight requests before it exits, and an endless
 * stream must not hold it for its whole grace. The page then reconnects,
 * to another process or to this one restarted.
 */
const serverStopped = (request: HttpServerRequest.HttpServerRequest) => {
  const server = (request.source as { socket?: { server?: { listening?: boolean } } }).socket?.server
  if (server === undefined) return Effect.never
  return Effect.sleep("250 millis").pipe(Effect.repeat({ until: () => server.listening !== true }))
}

const pageDir = fileURLToPath(new URL("./page/", import.meta.url))

/** The page (told how to log in: OIDC against AUTH_ISSUER, or a pasted token) and its assets. */
export const InspectPage = loginPage("/inspect", pageDir, "the inspection page")

/** The live stream of room changes: data, behind the admin role like every /admin route. */
export const InspectStream = HttpRouter.use(Effect.fn(function*(router) {
  const changes = yield* RoomChanges
  const catalog = yield* RoomCatalog
  const config = yield* AppConfig
  // Both feeds are subscribed before `ready` is sent.
  const subscribed = Effect.map(
    Effect.all([changes.subscribe, catalog.changes]),
    ([feed, rooms]) => changeFrames(feed, config.roomIdsAsStrings, heartbeatInterval, rooms)
  )
  yield* router.add("GET", "/admin/machines/events", (request) =>
    Effect.succeed(HttpServerResponse.stream(
      Stream.unwrap(subscribed).pipe(
        Stream.interruptWhen(serverStopped(request)),
        Stream.encodeText
      ),
      { contentType: "text/event-stream", headers: { ...noStore, "x-accel-buffering": "no" } }
    )))
}))

