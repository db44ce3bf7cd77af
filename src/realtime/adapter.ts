// How broadcasts reach the sockets of other processes: in memory with one
// process (the default), through Postgres LISTEN/NOTIFY with several
// (REALTIME_ADAPTER=postgres, on DATABASE_URL; the socket_io_attachments
// table carries payloads too large for NOTIFY).
import { createAdapter } from "@socket.io/postgres-adapter"
import { Effect } from "effect"
import type { Server } from "socket.io"
import { AppConfig } from "../config.ts"
import { notifyPool } from "../db/notifyPool.ts"

/** Installs the configured adapter on `io` (before it attaches); answers its name. */
export const installAdapter = (io: Server) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    if (config.realtimeAdapter === "memory" || config.databaseUrl === undefined) return "memory"
    const run = Effect.runForkWith(yield* Effect.context())
    const warn = (error: Error) =>
      run(Effect.logWarning("Real-time broadcast between processes failed").pipe(Effect.annotateLogs({ reason: error.message })))
    const pool = yield* notifyPool(config.databaseUrl, warn)
    io.adapter(createAdapter(pool, { errorHandler: warn }))
    // Before the pool ends: the adapter releases the connection it listens on.
    yield* Effect.addFinalizer(() => Effect.promise(async () => io.of("/").adapter.close()).pipe(Effect.ignore))
    return "postgres"
  })
