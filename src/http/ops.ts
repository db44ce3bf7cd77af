// Liveness and readiness: /health answers while the process runs, /ready
// only while the database answers and, when MQTT is configured, the broker
// is connected, with this process's share of the rooms; /servers, every
// gateway with its load (any process answers the same).
import { Duration, Effect, Option } from "effect"
import type { Sharding } from "effect/cluster"
import { HttpApiBuilder } from "effect/http-api"
import { SqlClient } from "effect/sql"
import type { AppConfig } from "../config.ts"
import { DatabaseInfo } from "../db/database.ts"
import { GatewayLoads, gatewayLoadView } from "../gateways/loads.ts"
import { Broker } from "../mqtt/broker.ts"
import { clusterShare } from "../rooms/cluster.ts"
import { Api } from "./api.ts"
import { ServiceUnavailable } from "../domain/wireErrors.ts"
import { asHttpError } from "./httpErrors.ts"

const readyTimeout = Duration.seconds(2)

export const OpsHandlers = HttpApiBuilder.group(Api, "ops", Effect.fn(function*(handlers) {
  const sql = yield* SqlClient.SqlClient
  const info = yield* DatabaseInfo
  const broker = yield* Broker
  const share = Effect.provideContext(clusterShare, yield* Effect.context<AppConfig | Sharding.Sharding>())
  const loads = yield* GatewayLoads
  const database = sql`SELECT 1`.pipe(
    Effect.timeoutOrElse({ duration: readyTimeout, orElse: () => Effect.fail({ message: "no answer within 2 seconds" }) }),
    Effect.mapError((e) => new ServiceUnavailable({ error: `database unavailable (${info.mode}): ${e.message}` }))
  )
  return handlers
    .handle("health", () => Effect.succeed({ status: "ok" as const }))
    .handle("healthCheck", () => Effect.succeed({ status: "ok" as const }))
    .handle("ready", () =>
      Effect.gen(function*() {
        yield* database
        const rooms = yield* share
        if (Option.isNone(broker)) return { status: "ready" as const, database: info.mode, mqtt: "off" as const, rooms }
        if (!(yield* broker.value.connected)) return yield* new ServiceUnavailable({ error: "mqtt broker unavailable" })
        return { status: "ready" as const, database: info.mode, mqtt: "connected" as const, rooms }
      }))
    .handle("servers", () => asHttpError(Effect.map(loads.current, (list) => list.map(gatewayLoadView))))
}))
