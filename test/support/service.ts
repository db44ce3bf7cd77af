// The service in-process on a free port, over a given database layer.
import { Context, Effect, Layer, Result } from "effect"
import { HttpServer } from "effect/http"
import { serviceLayer } from "../../src/app.ts"
import { decodeSettings, type Settings } from "../../src/config.ts"
import type { Database } from "../../src/db/database.ts"

export const testSettings = (env: Record<string, string> = {}): Settings => {
  const decoded = decodeSettings({ LISTEN_ADDRESS: "127.0.0.1:0", LOG_LEVEL: "warn", ...env })
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
  return decoded.success
}

/** Builds the service in the current scope; answers its base URL. */
export const runService = (database: typeof Database, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(serviceLayer(testSettings(env), database))
    return HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address)
  })

export const getJson = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, body: await response.json() as unknown }
  })
