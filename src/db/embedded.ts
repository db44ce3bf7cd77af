// Embedded Postgres (PGlite) for trying the service with nothing installed.
// It listens on a loopback port so the very same Postgres client serves both
// the embedded and a real database: one code path, one set of SQL.
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Duration, Effect, Schema } from "effect"
import { existsSync, mkdirSync } from "node:fs"
import { join, resolve } from "node:path"

export class EmbeddedDatabaseError extends Schema.TaggedError<EmbeddedDatabaseError>()("EmbeddedDatabaseError", {
  message: Schema.String
}) {}

export interface EmbeddedDatabase {
  readonly host: string
  readonly port: number
  /** True when this start created the data directory's database. */
  readonly fresh: boolean
  readonly dataDir: string
}

// A close that hangs (a client cut off mid-handshake by a stop during
// start-up keeps the socket server waiting) must not hold the stop: it gets
// a few seconds, then the process goes on stopping.
const closeTimeout = Duration.seconds(3)
const closing = (what: string, close: () => Promise<unknown>) =>
  Effect.promise(close).pipe(
    Effect.timeoutOrElse({
      duration: closeTimeout,
      orElse: () => Effect.logWarning("Gave up waiting for a close").pipe(Effect.annotateLogs({ what, after: Duration.format(closeTimeout) }))
    }),
    Effect.ignore
  )

/** Opens PGlite in `dataDir` and serves it on 127.0.0.1 (a free port) until the scope closes. */
export const openEmbeddedDatabase = (dataDir: string) =>
  Effect.gen(function*() {
    const dir = resolve(dataDir)
    const fresh = !existsSync(join(dir, "PG_VERSION"))
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => {
          mkdirSync(dir, { recursive: true })
          return PGlite.create(dir)
        },
        catch: (cause) => new EmbeddedDatabaseError({ message: `Cannot open the embedded database in DATA_DIR=${dir}: ${String(cause)}` })
      }),
      (db) => closing("the embedded database", () => db.close())
    )
    const server = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0 })
          await server.start()
          return server
        },
        catch: (cause) => new EmbeddedDatabaseError({ message: `Cannot serve the embedded database: ${String(cause)}` })
      }),
      (server) => closing("the embedded database's socket", () => server.stop())
    )
    const address = server.getServerConn()
    const port = Number(address.split(":").pop())
    return { host: "127.0.0.1", port, fresh, dataDir: dir } satisfies EmbeddedDatabase
  })
