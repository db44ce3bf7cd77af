// The database connection: a real Postgres when DATABASE_URL is set, the
// embedded one otherwise, both behind the same SqlClient. A Postgres that
// does not answer is waited for (the service answers /health meanwhile); an
// embedded database that cannot be opened fails start-up with one line.
import { PgClient } from "@effect/sql-pg"
import { Cause, Context, Duration, Effect, Exit, Layer, Option, Redacted, Schema, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { AppConfig } from "../config.ts"
import { StartingUp } from "../startingUp.ts"
import { reconnectDelay } from "../reconnect.ts"
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

/**
 * Start-up waits for a database that is not there yet (it starts after the
 * service, or is being restarted) instead of giving up: one attempt after
 * another, spaced as every reconnect is, each failure logged, and what it
 * waits for shown to whoever asks the process meanwhile (/ready: 503).
 */
const waitingFor = (info: DatabaseInfoShape, connection: Layer.Layer<Layer.Success<ReturnType<typeof connect>>, DatabaseUnreachable>) =>
  Layer.effectContext(Effect.gen(function*() {
    const scope = yield* Effect.scope
    const starting = yield* Effect.serviceOption(StartingUp)
    for (let attempt = 1; ; attempt++) {
      // each attempt in a scope of its own: a failed one leaves no pool behind
      const tried = yield* Scope.fork(scope)
      const exit = yield* Effect.exit(Layer.buildWithScope(connection, tried))
      if (Exit.isSuccess(exit)) {
        if (attempt > 1) yield* Effect.logInfo("Database reachable").pipe(Effect.annotateLogs({ location: info.location, attempts: attempt }))
        return exit.value
      }
      yield* Scope.close(tried, exit)
      const failure = Cause.squash(exit.cause)
      if (!(failure instanceof DatabaseUnreachable)) return yield* Effect.failCause(exit.cause)
      if (Option.isSome(starting)) yield* starting.value.waitingFor(`database unavailable (postgres at ${info.location}): ${failure.message.replace(/^Cannot reach the database at \S+: /, "")}`)
      yield* Effect.logWarning("Waiting for the database").pipe(
        Effect.annotateLogs({ location: info.location, reason: failure.message, attempt, next_attempt_in: `${reconnectDelay(attempt)}ms` })
      )
      yield* Effect.sleep(Duration.millis(reconnectDelay(attempt)))
    }
  }))

/** A Postgres at `url`; unless `wait` is false, start-up waits for it while it does not answer. */
export const postgresLayer = (url: string, maxConnections = 10, wait = true) => {
  const info: DatabaseInfoShape = { mode: "postgres", location: describeUrl(url), fresh: false }
  const connection = connect(info, { url: Redacted.make(url), connectTimeout, maxConnections, applicationName: "room-orchestrator" })
  return wait ? waitingFor(info, connection) : connection
}

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

/** The database the settings name; `wait`: a Postgres that does not answer yet is waited for (the service) or fails at once (the tools). */
export const databaseLayer = (options: { readonly wait: boolean }) =>
  Layer.unwrap(Effect.gen(function*() {
    const config = yield* AppConfig
    return config.databaseUrl === undefined ? embeddedLayer(config.dataDir) : postgresLayer(config.databaseUrl, 10, options.wait)
  }))

/** The service's database: waited for while it does not answer. */
export const Database = databaseLayer({ wait: true })
