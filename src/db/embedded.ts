// Embedded Postgres (PGlite) for trying the service with nothing installed.
// It listens on a loopback port so the very same Postgres client serves both
// the embedded and a real database: one code path, one set of SQL.
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Duration, Effect, Schema } from "effect"
import { execFile } from "node:child_process"
import { existsSync, mkdirSync } from "node:fs"
import { createRequire } from "node:module"
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

// Small buffers: the embedded database holds a trial's or a test's data, and
// PGlite's memory (WebAssembly) never shrinks once grown — 128 MB of shared
// buffers cost ~150 MiB of resident memory for nothing.
const sharedBuffers = "16MB"
const setBuffers = `ALTER SYSTEM SET shared_buffers = '${sharedBuffers}'`

/**
 * Creates the database in `dir` in a process of its own: while initdb runs,
 * PGlite's memory grows to ~630 MiB, which the service's process would keep
 * for good. The settings apply from the next open.
 */
export const initializeEmbeddedDatabase = (dir: string) =>
  Effect.tryPromise({
    try: (signal) =>
      new Promise<void>((done, failed) => {
        const pglite = createRequire(import.meta.url).resolve("@electric-sql/pglite")
        const script = `const { PGlite } = require(${JSON.stringify(pglite)});
          (async () => { const db = await PGlite.create(${JSON.stringify(dir)}); await db.exec(${JSON.stringify(setBuffers)}); await db.close() })()
            .catch((e) => { console.error(String(e)); process.exit(1) })`
        execFile(process.execPath, ["-e", script], { signal }, (error, _stdout, stderr) =>
          error === null ? done() : failed(new Error(stderr.trim() || error.message)))
      }),
    catch: (cause) => new EmbeddedDatabaseError({ message: `Cannot create the embedded database in DATA_DIR=${dir}: ${String(cause)}` })
  })

/** Opens PGlite in `dataDir` and serves it on 127.0.0.1 (a free port) until the scope closes. */
export const openEmbeddedDatabase = (dataDir: string) =>
  Effect.gen(function*() {
    const dir = resolve(dataDir)
    const fresh = !existsSync(join(dir, "PG_VERSION"))
    if (fresh) {
      mkdirSync(dir, { recursive: true })
      yield* initializeEmbeddedDatabase(dir)
    }
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const db = await PGlite.create(dir)
          // a data directory made before the setting gets it from its next open
          if (!fresh) await db.exec(setBuffers)
          return db
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
