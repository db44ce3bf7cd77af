// A migrated, seeded database that several services (or a service started
// after another was killed) share with the test: queries run on the same
// connection, since a second embedded instance on the data directory would
// read a stale copy of it (and write its own checkpoint into it).
import { Effect, Layer } from "effect"
import type { Database } from "../../src/db/database.ts"
import { loggingLayer } from "../../src/logging.ts"
import { type FreshDatabase, freshDatabase } from "./database.ts"
import { databaseLayerFor, prepared, query } from "./rooms.ts"

/** The database (a fresh one unless given) as a layer to pass to `runService`, and `sql` on its connection. */
export const sharedDatabase = (given?: FreshDatabase) =>
  Effect.gen(function*() {
    const db = given ?? (yield* freshDatabase)
    const context = yield* Layer.build(prepared(databaseLayerFor(db)).pipe(Layer.provide(loggingLayer("logfmt", "warn"))))
    const sql = <A extends object>(text: string, ...params: ReadonlyArray<unknown>) => Effect.provide(query<A>(text, ...params), context)
    return { db, layer: Layer.succeedContext(context) as unknown as typeof Database, sql }
  })
