import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { openEmbeddedDatabase } from "../../src/db/embedded.ts"
import { postgresLayer } from "../../src/db/database.ts"
import { backend, freshDatabase, freshDatabaseLayer } from "../support/database.ts"
import { tcpRelay } from "../support/proxy.ts"
import { getJson, runService } from "../support/service.ts"

// The database's host and port, whichever backend the suite runs on.
const databaseEndpoint = Effect.gen(function*() {
  const db = yield* freshDatabase
  if ("url" in db) {
    const u = new URL(db.url)
    return { host: u.hostname, port: Number(u.port || 5432), path: u.pathname, pool: 4 }
  }
  const embedded = yield* Effect.orDie(openEmbeddedDatabase(db.dataDir))
  return { host: embedded.host, port: embedded.port, path: "/postgres", pool: 1 }
})

describe(`operations endpoints (${backend})`, () => {
  it.live("/health and /ready answer 200 while the database is up", () =>
    Effect.gen(function*() {
      const base = yield* runService(freshDatabaseLayer)
      assert.deepStrictEqual(yield* getJson(`${base}/health`), { status: 200, body: { status: "ok" } })
      assert.deepStrictEqual(yield* getJson(`${base}/ready`), { status: 200, body: { status: "ready", database: backend, mqtt: "off", rooms: { runner: null, shards: 300, of: 300 } } })
    }).pipe(Effect.scoped))

  it.live("/ready answers 503 with a reason when the database is gone, /health stays 200", () =>
    Effect.gen(function*() {
      const target = yield* databaseEndpoint
      const relay = yield* tcpRelay({ host: target.host, port: target.port })
      const base = yield* runService(postgresLayer(`postgres://postgres@127.0.0.1:${relay.port}${target.path}`, target.pool))
      assert.strictEqual((yield* getJson(`${base}/ready`)).status, 200)

      yield* relay.cut
      const ready = yield* getJson(`${base}/ready`)
      assert.strictEqual(ready.status, 503)
      assert.match((ready.body as { error: string }).error, /^database unavailable/)
      assert.deepStrictEqual(yield* getJson(`${base}/health`), { status: 200, body: { status: "ok" } })
    }).pipe(Effect.scoped))

  it.live("serves its OpenAPI document", () =>
    Effect.gen(function*() {
      const base = yield* runService(freshDatabaseLayer)
      const doc = yield* getJson(`${base}/openapi.json`)
      assert.strictEqual(doc.status, 200)
      assert.containsAllKeys((doc.body as { paths: object }).paths, ["/health", "/ready"])
    }).pipe(Effect.scoped))
})
