// Liveness and readiness: /health answers while the process runs, /ready
// only while the database answers and, when MQTT is configured, the broker
// is connected.
import { Duration, Effect, Option } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { SqlClient } from "effect/sql"
import { DatabaseInfo } from "../db/database.ts"
import { Broker } from "../mqtt/broker.ts"
import { Api } from "./api.ts"
import { ServiceUnavailable } from "./errors.ts"

const readyTimeout = Duration.seconds(2)

export const OpsHandlers = HttpApiBuilder.group(Api, "ops", Effect.fn(function*(handlers) {
  const sql = yield* SqlClient.SqlClient
  const info = yield* DatabaseInfo
  const broker = yield* Broker
  const database = sql`SELECT 1`.pipe(
    Effect.timeoutOrElse({ duration: readyTimeout, orElse: () => Effect.fail({ message: "no answer within 2 seconds" }) }),
    Effect.mapError((e) => new ServiceUnavailable({ error: `database unavailable (${info.mode}): ${e.message}` }))
  )
  return handlers
    .handle("health", () => Effect.succeed({ status: "ok" as const }))
    .handle("ready", () =>
      Effect.gen(function*() {
        yield* database
        if (Option.isNone(broker)) return { status: "ready" as const, database: info.mode, mqtt: "off" as const }
        if (!(yield* broker.value.connected)) return yield* new ServiceUnavailable({ error: "mqtt broker unavailable" })
        return { status: "ready" as const, database: info.mode, mqtt: "connected" as const }
      }))
}))
