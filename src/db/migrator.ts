// Schema migrations: plain `NNNN_name.up.sql` / `NNNN_name.down.sql` files in
// migrations/. Each run holds a transaction-scoped advisory lock, so two
// processes starting at once apply every migration exactly once.
import { Effect, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { splitStatements } from "./statements.ts"

export interface Migration {
  readonly id: number
  readonly name: string
  readonly up: string
  readonly down: string
}

export class MigrationError extends Schema.TaggedError<MigrationError>()("MigrationError", {
  message: Schema.String
}) {}

export const migrationsDir = fileURLToPath(new URL("../../migrations/", import.meta.url))

const fileName = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/

/** Reads the migration files; every up needs its down, ids are unique. */
export const loadMigrations = (dir: string = migrationsDir): ReadonlyArray<Migration> => {
  const found = new Map<number, { name: string; up?: string; down?: string }>()
  for (const file of readdirSync(dir).sort()) {
    const m = fileName.exec(file)
    if (!m) continue
    const id = Number(m[1])
    const entry = found.get(id) ?? { name: m[2]! }
    if (entry.name !== m[2]) throw new Error(`migrations/${file}: id ${id} is used by two names`)
    entry[m[3] as "up" | "down"] = readFileSync(`${dir}/${file}`, "utf8")
    found.set(id, entry)
  }
  return [...found.entries()].sort(([a], [b]) => a - b).map(([id, e]) => {
    if (e.up === undefined || e.down === undefined) {
      throw new Error(`migration ${id}_${e.name} needs both an .up.sql and a .down.sql file`)
    }
    return { id, name: e.name, up: e.up, down: e.down }
  })
}

// An arbitrary constant shared by every process of this service.
const lockKey = 7_413_020_117

export interface MigrationStatus {
  readonly id: number
  readonly name: string
  readonly appliedAt: Date | undefined
}

export const makeMigrator = (migrations: ReadonlyArray<Migration> = loadMigrations()) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const locked = <A, E, R>(body: Effect.Effect<A, E, R>) =>
      sql.withTransaction(Effect.gen(function*() {
        yield* sql`SELECT pg_advisory_xact_lock(${lockKey})`
        yield* sql`CREATE TABLE IF NOT EXISTS schema_migrations (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )`
        return yield* body
      }))

    const applied = sql<{ id: number; name: string; applied_at: Date }>`
      SELECT id, name, applied_at FROM schema_migrations ORDER BY id`

    const run = (text: string) => Effect.forEach(splitStatements(text), (statement) => sql.unsafe(statement), { discard: true })

    /** Applies every pending migration, in order; answers the ones applied. */
    const up = locked(Effect.gen(function*() {
      const done = new Set((yield* applied).map((r) => r.id))
      const pending = migrations.filter((m) => !done.has(m.id))
      for (const m of pending) {
        yield* run(m.up)
        yield* sql`INSERT INTO schema_migrations (id, name) VALUES (${m.id}, ${m.name})`
        yield* Effect.logInfo("Migration applied").pipe(Effect.annotateLogs({ migration: migrationName(m) }))
      }
      return pending
    }))

    /** Reverts the last `steps` applied migrations, newest first. */
    const down = (steps = 1) => locked(Effect.gen(function*() {
      const done = (yield* applied).slice(-steps).reverse()
      const reverted: Array<Migration> = []
      for (const row of done) {
        const m = migrations.find((x) => x.id === row.id)
        if (m === undefined) {
          return yield* new MigrationError({ message: `migration ${migrationName(row)} is applied but has no file here` })
        }
        yield* run(m.down)
        yield* sql`DELETE FROM schema_migrations WHERE id = ${m.id}`
        yield* Effect.logInfo("Migration reverted").pipe(Effect.annotateLogs({ migration: migrationName(m) }))
        reverted.push(m)
      }
      return reverted
    }))

    /** Every known migration with when it was applied (undefined when pending). */
    const status = locked(Effect.map(applied, (rows): ReadonlyArray<MigrationStatus> => {
      const at = new Map(rows.map((r) => [r.id, r.applied_at]))
      return migrations.map((m) => ({ id: m.id, name: m.name, appliedAt: at.get(m.id) }))
    }))

    return { up, down, status } as const
  })

/** `0003_users_sessions`, as the files are named. */
export const migrationName = (m: { readonly id: number; readonly name: string }) =>
  `${String(m.id).padStart(4, "0")}_${m.name}`
