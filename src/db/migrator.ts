// Schema migrations: plain `NNNN_name.up.sql` / `NNNN_name.down.sql` files in
// migrations/. Each migration runs whole in its own transaction under an
// advisory lock: a file applies entirely or not at all, gets its own
// `applied_at`, and two processes starting at once apply it exactly once.
import { Effect, Schema } from "effect"
import { SqlClient, SqlError } from "effect/sql"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

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
    if (e.up.trim() === "" || e.down.trim() === "") {
      throw new Error(`migration ${id}_${e.name} has an empty .up.sql or .down.sql file`)
    }
    return { id, name: e.name, up: e.up, down: e.down }
  })
}

// An arbitrary constant shared by every process of this service.
const lockKey = 7_413_020_117

// The Postgres client speaks only the extended protocol, which takes one
// statement per query. Rather than splitting files ourselves (and cutting a
// `$$ … $$` body or an `E'…\'…'` string in two), the file travels as a
// parameter and Postgres's own parser runs it: PL/pgSQL's EXECUTE accepts
// several statements in one string. Transaction commands are refused there,
// which suits us: the transaction is ours.
const fileSetting = "room_orchestrator.migration"
const executeFile = `DO $migration$ BEGIN EXECUTE current_setting('${fileSetting}'); END $migration$`

export interface MigrationStatus {
  readonly id: number
  readonly name: string
  readonly appliedAt: Date | undefined
}

interface AppliedRow {
  readonly id: number
  readonly name: string
  readonly applied_at: Date
}

export const makeMigrator = (migrations: ReadonlyArray<Migration> = loadMigrations()) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** One transaction holding the lock, given what is applied at that moment. */
    const step = <A, E, R>(body: (applied: ReadonlyArray<AppliedRow>) => Effect.Effect<A, E, R>) =>
      sql.withTransaction(Effect.gen(function*() {
        yield* sql`SELECT pg_advisory_xact_lock(${lockKey})`
        yield* sql`CREATE TABLE IF NOT EXISTS schema_migrations (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )`
        return yield* body(yield* sql<AppliedRow>`SELECT id, name, applied_at FROM schema_migrations ORDER BY id`)
      }))

    const runFile = (m: Migration, direction: "up" | "down") => {
      const text = m[direction]
      return sql`SELECT set_config(${fileSetting}, ${text}, true)`.pipe(
        Effect.andThen(sql.unsafe(executeFile)),
        Effect.mapError((e) => new MigrationError({ message: `Migration ${migrationName(m)}.${direction}.sql failed: ${describeFailure(e, text)}` }))
      )
    }

    /** Applies every pending migration, in order, one transaction each; answers the ones this call applied. */
    const up = Effect.gen(function*() {
      const applied: Array<Migration> = []
      for (;;) {
        // The next pending one is chosen under the lock: another process may have applied it meanwhile.
        const next = yield* step((rows) => {
          const done = new Set(rows.map((r) => r.id))
          const m = migrations.find((x) => !done.has(x.id))
          if (m === undefined) return Effect.succeed(undefined)
          return runFile(m, "up").pipe(
            Effect.andThen(sql`INSERT INTO schema_migrations (id, name) VALUES (${m.id}, ${m.name})`),
            Effect.as(m)
          )
        })
        if (next === undefined) return applied as ReadonlyArray<Migration>
        yield* Effect.logInfo("Migration applied").pipe(Effect.annotateLogs({ migration: migrationName(next) }))
        applied.push(next)
      }
    })

    /** Reverts the last `steps` applied migrations, newest first, one transaction each. */
    const down = (steps = 1) =>
      Effect.gen(function*() {
        const reverted: Array<Migration> = []
        while (reverted.length < steps) {
          const last = yield* step((rows) => {
            const row = rows.at(-1)
            if (row === undefined) return Effect.succeed(undefined)
            const m = migrations.find((x) => x.id === row.id)
            if (m === undefined) {
              return Effect.fail(new MigrationError({ message: `Migration ${migrationName(row)} is applied but has no file here` }))
            }
            return runFile(m, "down").pipe(
              Effect.andThen(sql`DELETE FROM schema_migrations WHERE id = ${m.id}`),
              Effect.as(m)
            )
          })
          if (last === undefined) break
          yield* Effect.logInfo("Migration reverted").pipe(Effect.annotateLogs({ migration: migrationName(last) }))
          reverted.push(last)
        }
        return reverted as ReadonlyArray<Migration>
      })

    /** Every known migration with when it was applied (undefined when pending). */
    const status = step((rows) =>
      Effect.succeed<ReadonlyArray<MigrationStatus>>(
        migrations.map((m) => ({ id: m.id, name: m.name, appliedAt: rows.find((r) => r.id === m.id)?.applied_at }))
      ))

    return { up, down, status } as const
  })

/** `0003_users_sessions`, as the files are named. */
export const migrationName = (m: { readonly id: number; readonly name: string }) =>
  `${String(m.id).padStart(4, "0")}_${m.name}`

// Postgres's own words, with the line of the file it points at when it does.
const describeFailure = (e: SqlError.SqlError, text: string): string => {
  const fields: { message?: unknown; detail?: unknown; internalPosition?: unknown } = typeof e.reason.cause === "object" && e.reason.cause !== null
    ? e.reason.cause
    : {}
  const message = typeof fields.message === "string" ? fields.message : e.message
  const position = Number(fields.internalPosition)
  const line = Number.isSafeInteger(position) && position > 0 ? ` at line ${text.slice(0, position - 1).split("\n").length}` : ""
  const detail = typeof fields.detail === "string" ? ` (${fields.detail})` : ""
  const hint = /transaction commands/.test(message) ? " (each migration runs in a transaction of its own: leave out BEGIN and COMMIT)" : ""
  return `${message}${line}${detail}${hint}`
}
