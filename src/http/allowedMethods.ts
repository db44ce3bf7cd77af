// Which methods a path has, learnt from the routes as they are added to the
// router (API endpoints, docs, metrics alike), so a wrong method on a known
// path is a 405 naming the allowed ones instead of a 404.
import { Context, Effect, Layer } from "effect"
import { FindMyWay, HttpRouter } from "effect/http"

/** The router's matching options, shared so both tables match a URL alike. */
export const routerConfig = { maxParamLength: 1000 } as const

const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY"] as const

export class AllowedMethods extends Context.Service<AllowedMethods, {
  /** The methods `url` answers to (HEAD wherever GET is); empty for an unknown path. */
  readonly of: (url: string) => ReadonlyArray<string>
}>()("room-orchestrator/AllowedMethods") {}

type Table = FindMyWay.Router<true>

const record = (table: Table, method: string, path: HttpRouter.PathInput) => {
  const paths = path.endsWith("/*") ? [path, path.slice(0, -2) as HttpRouter.PathInput] : [path]
  for (const p of paths) method === "*" ? table.all(p, true) : table.on(method, p, true)
}

const joinPrefix = (prefix: string, path: HttpRouter.PathInput) =>
  (path === "/" ? prefix || "/" : `${prefix.replace(/\/$/, "")}${path}`) as HttpRouter.PathInput

// The router, noting every route it is given in `table` too.
const recording = (router: HttpRouter.HttpRouter, table: Table, prefix = ""): HttpRouter.HttpRouter =>
  HttpRouter.HttpRouter.of({
    ...router,
    prefixed: (more) => recording(router.prefixed(more), table, joinPrefix(prefix, more as HttpRouter.PathInput)),
    add: (method, path, handler, options) => {
      record(table, method, joinPrefix(prefix, path))
      return router.add(method, path, handler, options)
    },
    addAll: (routes) => {
      for (const route of routes) record(table, route.method, joinPrefix(prefix, route.path))
      return router.addAll(routes)
    }
  })

/** `routes` registered on the router as usual, with `AllowedMethods` answering for them. */
export const withAllowedMethods = <A, E, R>(routes: Layer.Layer<A, E, R>) =>
  Layer.unwrap(Effect.sync(() => {
    const table = FindMyWay.make<true>(routerConfig)
    const allowed = AllowedMethods.of({
      of: (url) => {
        const found = methods.filter((m) => table.find(m, url) !== undefined)
        return found.includes("GET") && !found.includes("HEAD") ? ["GET", "HEAD", ...found.filter((m) => m !== "GET")] : found
      }
    })
    const router = Layer.effect(HttpRouter.HttpRouter, Effect.map(HttpRouter.HttpRouter, (r) => recording(r, table)))
    return routes.pipe(Layer.provide(Layer.merge(router, Layer.succeed(AllowedMethods, allowed))))
  }))
