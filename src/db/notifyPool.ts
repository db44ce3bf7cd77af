// A small `pg` pool for the Socket.IO Postgres adapter, which broadcasts
// between processes with LISTEN/NOTIFY through its own driver. Only used
// with REALTIME_ADAPTER=postgres; the service's queries go through SqlClient.
import { Effect } from "effect"
import pg from "pg"

/**
 * A pool on `url` until the scope closes; `onError` hears of every
 * connection that fails, idle or in use.
 */
export const notifyPool = (url: string, onError: (error: Error) => void) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      // One connection listens; the others publish.
      const pool = new pg.Pool({
        connectionString: url,
        max: 4,
        application_name: "room-orchestrator realtime",
        // a database that is away fails a connect at once, not after the OS's timeout
        connectionTimeoutMillis: 2_000
      })
      // An idle connection that fails would otherwise be an uncaught error.
      pool.on("error", onError)
      // So would one held out of the pool: the adapter keeps one for LISTEN
      // and gives it no error handler. It still hears the connection end and
      // listens again on a new one.
      pool.on("connect", (client) => client.on("error", onError))
      return pool
    }),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.ignore)
  )
