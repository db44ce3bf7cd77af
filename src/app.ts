// The whole service as one layer: storage, then the rooms runtime, then the HTTP server, so
// the port only opens once the database is ready (early connections are
// refused, never left hanging).
import { NodeHttpServer } from "@effect/platform-node"
import { Duration, Layer } from "effect"
import { HttpRouter } from "effect/http"
import { HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import { createServer } from "node:http"
import { Config, type Settings } from "./config.ts"
import { Database } from "./db/database.ts"
import { storageLayer } from "./db/storage.ts"
import { Api } from "./http/api.ts"
import { OpsHandlers } from "./http/ops.ts"
import { loggingLayer } from "./logging.ts"
import { singleProcessCluster } from "./rooms/cluster.ts"
import { roomsLayer } from "./rooms/layer.ts"

const Routes = Layer.mergeAll(
  HttpApiBuilder.layer(Api, { openapiPath: "/openapi.json" }).pipe(Layer.provide(OpsHandlers)),
  HttpApiScalar.layer(Api, { path: "/docs" })
)

/** In-flight requests get this long to finish on SIGTERM. */
const gracefulShutdownTimeout = Duration.seconds(10)

/**
 * The service on `settings`; `database` replaces the one the settings name
 * (tests use it). Exposes the HTTP server, whose address tells the port.
 */
export const serviceLayer = (settings: Settings, database: typeof Database = Database) =>
  HttpRouter.serve(Routes, { disableLogger: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, {
      host: settings.listen.host,
      port: settings.listen.port,
      gracefulShutdownTimeout
    })),
    Layer.provide(roomsLayer(singleProcessCluster).pipe(Layer.provideMerge(storageLayer(database)))),
    Layer.provide(Config.layer(settings)),
    Layer.provide(loggingLayer(settings.logFormat, settings.logLevel))
  )
