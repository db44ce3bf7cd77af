// A fresh, empty database for one test: a new database on the real Postgres
// when DATABASE_URL is set (CI runs the suite both ways), else a copy of the
// embedded template. Dropped or deleted when the test's scope closes.
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { randomBytes } from "node:crypto"
import { cpSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import { embeddedLayer, postgresLayer } from "../../src/db/database.ts"

export const realPostgresUrl = process.env.DATABASE_URL
export const backend = realPostgresUrl === undefined ? "embedded" : "postgres"

/** A fresh embedded data directory (a copy of the template); removed on scope close. */
export const freshDataDir = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-test-"))
    cpSync(inject("embeddedTemplate"), dir, { recursive: true })
    return dir
  }),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The URL of a new database on the real Postgres; dropped on scope close. */
export const freshPostgresUrl = (serverUrl: string) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const name = `ro_test_${randomBytes(6).toString("hex")}`
      yield* adminQuery(serverUrl, (sql) => sql.unsafe(`CREATE DATABASE ${name}`))
      const url = new URL(serverUrl)
      url.pathname = `/${name}`
      return url.toString()
    }),
    (url) => adminQuery(serverUrl, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`)).pipe(Effect.ignore)
  )

const adminQuery = <A, E>(serverUrl: string, f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    return yield* f(yield* SqlClient.SqlClient)
  }).pipe(Effect.provide(postgresLayer(serverUrl, 1)), Effect.orDie)

/** Where a fresh test database is: a URL (real Postgres) or a data directory (embedded). */
export type FreshDatabase = { readonly url: string } | { readonly dataDir: string }

export const freshDatabase: Effect.Effect<FreshDatabase, never, import("effect").Scope.Scope> =
  realPostgresUrl === undefined
    ? Effect.map(freshDataDir, (dataDir) => ({ dataDir }))
    : Effect.map(freshPostgresUrl(realPostgresUrl), (url) => ({ url }))

/** The database layer (SqlClient, DatabaseInfo) for a fresh database. */
export const freshDatabaseLayer = Layer.unwrap(Effect.map(freshDatabase, (db) =>
  "url" in db ? postgresLayer(db.url) : embeddedLayer(db.dataDir)))

/** Settings-style environment naming a fresh database. */
export const envFor = (db: FreshDatabase): Record<string, string> =>
  "url" in db ? { DATABASE_URL: db.url } : { DATA_DIR: db.dataDir }
