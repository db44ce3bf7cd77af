import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { postgresLayer } from "../../src/db/database.ts"
import { loadMigrations, makeMigrator } from "../../src/db/migrator.ts"
import { splitStatements } from "../../src/db/statements.ts"
import { backend, freshDatabaseLayer, freshPostgresUrl, realPostgresUrl } from "../support/database.ts"

const tables = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY table_name`
  return rows.map((r) => r.table_name)
})

const schemaTables = ["gateways", "room_server_assignments", "room_snapshots", "room_transitions", "rooms", "sessions", "users"]

describe(`migrations (${backend})`, () => {
  it.effect("up, down to nothing, and up again", () =>
    Effect.gen(function*() {
      const migrator = yield* makeMigrator()
      const all = loadMigrations()
      assert.deepStrictEqual((yield* migrator.up).map((m) => m.id), all.map((m) => m.id))
      assert.deepStrictEqual(yield* tables, schemaTables)
      assert.isTrue((yield* migrator.status).every((m) => m.appliedAt instanceof Date))

      assert.strictEqual((yield* migrator.up).length, 0, "a second up applies nothing")

      assert.deepStrictEqual((yield* migrator.down(1)).map((m) => m.id), [all.at(-1)!.id])
      assert.strictEqual((yield* migrator.status).at(-1)!.appliedAt, undefined)

      yield* migrator.down(all.length)
      assert.deepStrictEqual(yield* tables, [])

      yield* migrator.up
      assert.deepStrictEqual(yield* tables, schemaTables)
    }).pipe(Effect.provide(freshDatabaseLayer)))

  it.effect("the schema enforces what the data model promises", () =>
    Effect.gen(function*() {
      yield* (yield* makeMigrator()).up
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO gateways (name) VALUES ('gxy1')`
      const duplicate = yield* Effect.flip(sql`INSERT INTO gateways (name) VALUES ('gxy1')`)
      assert.deepInclude(duplicate.reason, { _tag: "UniqueViolation", constraint: "gateways_name_key" })
      yield* sql`INSERT INTO rooms (room, name, join_code) VALUES (2171, 'Room 1', 'ABC123')`
      const badCode = yield* Effect.flip(sql`INSERT INTO rooms (room, name, join_code) VALUES (2172, 'Room 2', 'abc')`)
      assert.strictEqual(badCode.reason._tag, "ConstraintError")
      const sameCode = yield* Effect.flip(sql`INSERT INTO rooms (room, name, join_code) VALUES (2173, 'Room 3', 'ABC123')`)
      assert.deepInclude(sameCode.reason, { _tag: "UniqueViolation", constraint: "rooms_join_code_key" })
    }).pipe(Effect.provide(freshDatabaseLayer)))

  it.effect.skipIf(realPostgresUrl === undefined)("two processes migrating at once apply each migration once", () =>
    Effect.gen(function*() {
      const url = yield* freshPostgresUrl(realPostgresUrl!)
      // Two independent pools stand for two processes starting together.
      const upWith = makeMigrator().pipe(Effect.flatMap((m) => m.up), Effect.provide(postgresLayer(url, 2)))
      const [a, b] = yield* Effect.all([upWith, upWith], { concurrency: 2 })
      assert.strictEqual(a.length + b.length, loadMigrations().length)
      const rows = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM schema_migrations`
      }).pipe(Effect.provide(postgresLayer(url, 1)))
      assert.strictEqual(rows[0]!.n, loadMigrations().length)
    }))
})

describe("migration files", () => {
  it("every up has its down", () => {
    for (const m of loadMigrations()) {
      assert.isNotEmpty(splitStatements(m.up), `${m.id} up`)
      assert.isNotEmpty(splitStatements(m.down), `${m.id} down`)
    }
  })

  it("splits statements, keeping semicolons inside strings, comments and dollar quotes", () => {
    const text = "-- a; comment\nCREATE TABLE a (x TEXT DEFAULT ';');\n/* b; */ SELECT $$ ; $$;\n\nSELECT 'it''s; fine'"
    assert.deepStrictEqual(splitStatements(text), [
      "-- a; comment\nCREATE TABLE a (x TEXT DEFAULT ';')",
      "/* b; */ SELECT $$ ; $$",
      "SELECT 'it''s; fine'"
    ])
  })
})

