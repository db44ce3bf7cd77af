// The private Postgres that outage tests stop and start: it really stops
// (connections refused) and comes back on the same port with its data.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { SqlClient } from "effect/sql"
import { existsSync } from "node:fs"
import { connect } from "node:net"
import { postgresLayer } from "../../src/db/database.ts"
import { postgresBinDir, privatePostgres } from "./postgresServer.ts"

const query = <A extends object>(url: string, text: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<A>(text)
  }).pipe(Effect.provide(postgresLayer(url, 1)), Effect.scoped)

/** The error code of a TCP connection to `port`, or "connected". */
const connectError = (port: number) =>
  Effect.promise(() =>
    new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1")
      socket.once("connect", () => {
        socket.destroy()
        resolve("connected")
      })
      socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
    })
  )

describe.skipIf(postgresBinDir === undefined)("a private Postgres server", () => {
  it.live("starts, stops (connections refused), starts again with its data, and is removed with the scope", () =>
    Effect.gen(function*() {
      const { dir, url } = yield* Effect.gen(function*() {
        const pg = yield* privatePostgres
        assert.notStrictEqual(pg.port, 5432)
        yield* query(pg.url, "CREATE TABLE kept (x INT)")
        yield* query(pg.url, "INSERT INTO kept VALUES (7)")

        yield* pg.stop
        // (the service's pool waits for a database that is down: a query fails or waits)
        const down = yield* Effect.exit(query(pg.url, "SELECT 1").pipe(Effect.timeout("3 seconds")))
        assert.isTrue(Exit.isFailure(down))
        assert.strictEqual(yield* connectError(pg.port), "ECONNREFUSED")

        yield* pg.start
        assert.deepStrictEqual(yield* query<{ x: number }>(pg.url, "SELECT x FROM kept"), [{ x: 7 }])
        return { dir: pg.dir, url: pg.url }
      }).pipe(Effect.scoped)

      assert.isFalse(existsSync(dir), "the directory is removed")
      assert.strictEqual(yield* connectError(Number(new URL(url).port)), "ECONNREFUSED", "the server is stopped")
    }))
})
