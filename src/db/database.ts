// The database connection: a real Postgres when DATABASE_URL is set, the
// embedded one otherwise, both behind the same SqlClient. Start-up fails
// with one clear line when the database cannot be reached, never hangs.
import { PgClient } from "@effect/sql-pg"
import { Context, Duration, Effect, Layer, Redacted, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { Config } from "../config.ts"
import { openEmbeddedDatabase } from "./embedded.ts"

export class DatabaseUnreachable extends Schema.TaggedError<DatabaseUnreachable>()("DatabaseUnreachable", {
  message: Schema.String
}) {}

export interface DatabaseInfoShape {
  readonly mode: "embedded" | "postgres"
  /** Where it is, without credentials: `host:port/database` or the data directory. */
  readonly location: string
  /** True when this start created the (embedded) database. */
  readonly fresh: boolean
}

export class DatabaseInfo extends Context.Service<DatabaseInfo, DatabaseInfoShape>()("room-orchestrator/DatabaseInfo") {}

const connectTimeout = Duration.seconds(3)
const probeTimeout = Duration.seconds(5)

/** `host:port/database` of a URL, never its password. */
export const describeUrl = (url: string): string => {
  const u = new URL(url)
  return `${u.hostname}:${u.port || "5432"}${u.pathname}`
}

// Answers within `probeTimeout` or fails with a message naming the database.
const probe = (info: DatabaseInfoShape) =>
  Layer.effectDiscard(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`SELECT 1`.pipe(
      Effect.timeoutOrElse({
        duration: probeTimeout,
        orElse: () => Effect.fail(`no answer within ${Duration.format(probeTimeout)}`)
      }),
      Effect.mapError((cause) =>
        new DatabaseUnreachable({
          message: `Cannot reach the database at ${info.location}: ${typeof cause === "string" ? cause : cause.message}`
        })
      )
    )
    yield* Effect.logInfo("Database connected").pipe(
      Effect.annotateLogs({ mode: info.mode, location: info.location })
    )
  }))

const connect = (info: DatabaseInfoShape, config: PgClient.PgPoolConfig) =>
  probe(info).pipe(
    Layer.provideMerge(PgClient.layerFrom(Effect.mapError(PgClient.make(config), (e) =>
      new DatabaseUnreachable({ message: `Cannot reach the database at ${info.location}: ${e.message}` })))),
    Layer.merge(Layer.succeed(DatabaseInfo, info))
  )

/** A Postgres at `url`. */
export const postgresLayer = (url: string, maxConnections = 10) =>
  connect(
    { mode: "postgres", location: describeUrl(url), fresh: false },
    { url: Redacted.make(url), connectTimeout, maxConnections, applicationName: "room-orchestrator" }
  )

/** The embedded database in `dataDir`, served over loopback to one client connection. */
export const embeddedLayer = (dataDir: string) =>
  Layer.unwrap(Effect.gen(function*() {
    const db = yield* openEmbeddedDatabase(dataDir).pipe(
      Effect.mapError((e) => new DatabaseUnreachable({ message: e.message }))
    )
    return connect(
      { mode: "embedded", location: db.dataDir, fresh: db.fresh },
      // PGlite is single-connection: more pooled connections fail.
      { host: db.host, port: db.port, username: "postgres", database: "postgres", connectTimeout, maxConnections: 1 }
    )
  }))

/** The database the settings name. */
export const Database = Layer.unwrap(Effect.gen(function*() {
  const config = yield* Config
  return config.databaseUrl === undefined ? embeddedLayer(config.dataDir) : postgresLayer(config.databaseUrl)
}))
