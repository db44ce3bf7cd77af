import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { postgresLayer } from "../../src/db/database.ts"
import { loadMigrations, makeMigrator, type Migration } from "../../src/db/migrator.ts"
import { backend, envFor, freshDatabase, freshDatabaseLayer, freshPostgresUrl, realPostgresUrl } from "../support/database.ts"
import { startService } from "../support/process.ts"

const tables = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY table_name`
  return rows.map((r) => r.table_name)
})

const recorded = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ id: number }>`SELECT id FROM schema_migrations ORDER BY id`
  return rows.map((r) => r.id)
})

const schemaTables = ["gateway_loads", "gateways", "room_server_assignments", "room_snapshots", "room_transitions", "rooms", "sessions", "socket_io_attachments", "users"]

/** Migrations read from files written to a temporary directory, as an operator would write them. */
const migrationsFrom = (files: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-migrations-"))
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
      return { dir, migrations: loadMigrations(dir) }
    }),
    ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  ).pipe(Effect.map(({ migrations }) => migrations))

// Semicolons inside a dollar-quoted body and an escaped quote in an E'' string:
// a statement splitter of our own used to cut both in two.
const functionMigration = {
  "0001_shout.up.sql": `-- a function whose body has semicolons; and a string with an escaped quote
CREATE TABLE notes (body TEXT NOT NULL DEFAULT E'it\\'s; fine');

CREATE FUNCTION shout(t TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
  loud TEXT;
BEGIN
  loud := upper(t);
  RETURN loud || '!';
END
$$;

INSERT INTO notes DEFAULT VALUES;
`,
  "0001_shout.down.sql": "DROP FUNCTION shout(TEXT);\nDROP TABLE notes;\n"
}

const brokenMigration = {
  "0002_broken.up.sql": "CREATE TABLE half (x INT);\nINSERT INTO half VALUES (1);\nSELEC 'oops';\n",
  "0002_broken.down.sql": "DROP TABLE half;\n"
}

const upTo = (all: ReadonlyArray<Migration>, count: number) =>
  makeMigrator(all.slice(0, count)).pipe(Effect.flatMap((m) => m.up))

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

      assert.deepStrictEqual((yield* migrator.down(all.length + 3)).map((m) => m.id), all.slice(0, -1).map((m) => m.id).reverse())
      assert.deepStrictEqual(yield* tables, [])
      assert.deepStrictEqual(yield* recorded, [])

      yield* migrator.up
      assert.deepStrictEqual(yield* tables, schemaTables)
    }).pipe(Effect.provide(freshDatabaseLayer)))

  it.effect("a migration with a dollar-quoted function body and an E'' string applies whole and works", () =>
    Effect.gen(function*() {
      const migrations = yield* migrationsFrom(functionMigration)
      const migrator = yield* makeMigrator(migrations)
      assert.deepStrictEqual((yield* migrator.up).map((m) => m.name), ["shout"])
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ loud: string }>`SELECT shout(body) AS loud FROM notes`
      assert.deepStrictEqual(rows.map((r) => r.loud), ["IT'S; FINE!"])

      yield* migrator.down(1)
      assert.deepStrictEqual(yield* tables, [])
      const fn = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'shout'`
      assert.strictEqual(fn[0]!.n, 0)
    }).pipe(Effect.provide(freshDatabaseLayer)))

  it.effect("a migration that fails halfway leaves nothing of itself and is not recorded", () =>
    Effect.gen(function*() {
      const migrations = yield* migrationsFrom({ ...functionMigration, ...brokenMigration })
      const migrator = yield* makeMigrator(migrations)
      const error = yield* Effect.flip(migrator.up)
      assert.strictEqual(error._tag, "MigrationError")
      assert.strictEqual(error.message, "Migration 0002_broken.up.sql failed: syntax error at or near \"SELEC\" at line 3")

      // The first migration, in a transaction of its own, stays applied.
      assert.deepStrictEqual(yield* recorded, [1])
      assert.deepStrictEqual(yield* tables, ["notes"], "the broken file's CREATE TABLE is rolled back")
      assert.deepStrictEqual((yield* migrator.status).map((m) => m.appliedAt === undefined), [false, true])
    }).pipe(Effect.provide(freshDatabaseLayer)))

  it.effect("a file with its own BEGIN/COMMIT is refused with a clear reason", () =>
    Effect.gen(function*() {
      const migrations = yield* migrationsFrom({
        "0001_own_transaction.up.sql": "BEGIN;\nCREATE TABLE t (x INT);\nCOMMIT;\n",
        "0001_own_transaction.down.sql": "DROP TABLE t;\n"
      })
      const migrator = yield* makeMigrator(migrations)
      const error = yield* Effect.flip(migrator.up)
      assert.include(error.message, "Migration 0001_own_transaction.up.sql failed")
      assert.include(error.message, "leave out BEGIN and COMMIT")
      assert.strictEqual((yield* migrator.status)[0]!.appliedAt, undefined)
      assert.deepStrictEqual(yield* tables, [])
    }).pipe(Effect.provide(freshDatabaseLayer)))

  it.live("each migration gets its own applied_at, in one run and across runs", () =>
    Effect.gen(function*() {
      const all = loadMigrations()
      yield* upTo(all, 2)
      yield* Effect.sleep("20 millis")
      yield* upTo(all, all.length)
      const status = yield* (yield* makeMigrator()).status
      const at = status.map((m) => m.appliedAt!.getTime())
      assert.isBelow(at[1]!, at[2]!, "separate runs")
      // Within one run each migration commits on its own: Postgres's now() is the transaction's start.
      const sql = yield* SqlClient.SqlClient
      const distinct = yield* sql<{ n: number }>`SELECT count(DISTINCT applied_at)::int AS n FROM schema_migrations`
      assert.strictEqual(distinct[0]!.n, all.length)
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

describe(`npm run migrate (${backend})`, () => {
  const migrate = (env: Record<string, string>, ...args: Array<string>) =>
    Effect.promise(async () => {
      const child = startService(env, "src/cli/migrate.ts", args)
      return { code: await child.exited, output: child.output() }
    })

  it.effect("up, status, down N, status", () =>
    Effect.gen(function*() {
      const env = envFor(yield* freshDatabase)
      const count = loadMigrations().length
      const up = yield* migrate(env, "up")
      assert.strictEqual(up.code, 0, up.output)
      assert.include(up.output, "Applied 0001_gateways, ")

      const status = yield* migrate(env, "status")
      const applied = status.output.split("\n").filter((l) => /^\d{4}_\w+ {2}applied /.test(l))
      assert.strictEqual(applied.length, count, status.output)

      const down = yield* migrate(env, "down", "2")
      assert.strictEqual(down.code, 0, down.output)
      assert.include(down.output, `Reverted ${loadMigrations().slice(-2).reverse().map((m) => `${String(m.id).padStart(4, "0")}_${m.name}`).join(", ")}`)
      const after = yield* migrate(env, "status")
      assert.strictEqual(after.output.split("\n").filter((l) => l.endsWith("  pending")).length, 2, after.output)
    }))
})

describe("migration files", () => {
  it("every up has its down, none empty", () => {
    for (const m of loadMigrations()) {
      assert.isNotEmpty(m.up.trim(), `${m.id} up`)
      assert.isNotEmpty(m.down.trim(), `${m.id} down`)
    }
  })
})
