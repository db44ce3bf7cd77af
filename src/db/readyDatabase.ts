// The database ready for use: connected, migrated, and (on a fresh embedded
// database) seeded with demo data unless SEED=none.
import { Effect, Layer } from "effect"
import { AppConfig } from "../config.ts"
import { Database, DatabaseInfo } from "./database.ts"
import { makeMigrator } from "./migrator.ts"
import { seedDemoData } from "./seed.ts"

const prepare = Layer.effectDiscard(Effect.gen(function*() {
  const config = yield* AppConfig
  const info = yield* DatabaseInfo
  const migrator = yield* makeMigrator()
  const applied = yield* migrator.up
  yield* Effect.logInfo("Migrations up to date").pipe(Effect.annotateLogs({ applied: applied.length }))
  if (info.mode === "embedded" && info.fresh && config.seed === "demo") yield* seedDemoData
}))

export const readyDatabase = (database: typeof Database = Database) => prepare.pipe(Layer.provideMerge(database))
