// The service in-process on a free port, over a given database layer.
import { assert } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Logger, References, Result, Schedule } from "effect"
import { HttpServer } from "effect/http"
import { serviceLayer } from "../../src/app.ts"
import { decodeSettings, type Settings } from "../../src/config.ts"
import type { Database } from "../../src/db/database.ts"
import { freshDatabase } from "./database.ts"
import { databaseLayerFor, prepared, query } from "./rooms.ts"

export const testSettings = (env: Record<string, string> = {}): Settings => {
  const decoded = decodeSettings({ LISTEN_ADDRESS: "127.0.0.1:0", LOG_LEVEL: "warn", ...env })
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
  return decoded.success
}

/** Builds the service in the current scope; answers its base URL. */
export const runService = (database: typeof Database, env: Record<string, string> = {}, logger?: Layer.Layer<never>) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(serviceLayer(testSettings(env), { database, ...(logger ? { logger } : {}) }))
    return HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address)
  })

/** Log lines (logfmt) collected in memory, for tests that check what operators read. */
export const collectLogs = () => {
  const lines: Array<string> = []
  const logger = Layer.mergeAll(
    Logger.layer([Logger.map(Logger.formatLogFmt, (line) => void lines.push(line))]),
    Layer.succeed(References.MinimumLogLevel, "Info")
  )
  return { lines, logger }
}

/**
 * The service on a fresh database with the demo data, in the current scope;
 * answers its client, and `sql` to query the database through the service's
 * own connections (the embedded database takes one client only).
 */
export const serviceOnFreshDatabase = (env: Record<string, string> = {}, logger?: Layer.Layer<never>) =>
  Effect.gen(function*() {
    const db = yield* freshDatabase
    const database = yield* Layer.build(prepared(databaseLayerFor(db)))
    const base = yield* runService(Layer.succeedContext(database) as unknown as typeof Database, env, logger)
    const sql = <A extends object>(text: string, ...params: ReadonlyArray<unknown>) => Effect.provide(query<A>(text, ...params), database)
    return { base, api: client(base), db, sql }
  })

export const getJson = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, body: await response.json() as unknown }
  })

export interface Reply {
  readonly status: number
  readonly body: any
}

/** A JSON call to the service, as a client makes it. */
export const call = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
  Effect.promise(async (): Promise<Reply> => {
    const response = await fetch(url, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed }
  })

/** The service's JSON API at `base`. */
export const client = (base: string) => ({
  get: (path: string) => call("GET", base + path),
  post: (path: string, body: unknown, headers?: Record<string, string>) => call("POST", base + path, body, headers),
  put: (path: string, body: unknown) => call("PUT", base + path, body),
  patch: (path: string, body: unknown) => call("PATCH", base + path, body),
  delete: (path: string) => call("DELETE", base + path)
})

/** The reply's body, once its status is `status` (the body is the message when it is not). */
export const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

/** Retries `check` every 100 ms for up to `times` tries. */
export const eventually = <A, E, R>(check: Effect.Effect<A, E, R>, times = 100) =>
  Effect.retry(check, { schedule: Schedule.spaced(Duration.millis(100)), times })

/** A short random tag: names of a test's own rooms and gateways, apart from those of tests running beside it. */
export const unique = () => Math.random().toString(36).slice(2, 8)
