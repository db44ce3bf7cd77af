// The whole service as one layer: storage, then the rooms runtime and the
// services over it, then the HTTP server, so the port only opens once the
// database is ready (early connections are refused, never left hanging).
import { NodeHttpServer } from "@effect/platform-node"
import { Duration, Layer } from "effect"
import { HttpRouter } from "effect/http"
import { HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import { PrometheusMetrics } from "effect/observability"
import { createServer } from "node:http"
import { Config, type Settings } from "./config.ts"
import { CatalogStore } from "./db/catalogStore.ts"
import { Database } from "./db/database.ts"
import { SessionStore } from "./db/sessionStore.ts"
import { storageLayer } from "./db/storage.ts"
import { AdminHandlers } from "./http/admin.ts"
import { Api } from "./http/api.ts"
import { ClientsHandlers } from "./http/clients.ts"
import { ErrorBodies } from "./http/middleware.ts"
import { OpsHandlers } from "./http/ops.ts"
import { loggingLayer } from "./logging.ts"
import { RoomCatalog } from "./rooms/catalog.ts"
import { singleProcessCluster } from "./rooms/cluster.ts"
import { roomsLayer } from "./rooms/layer.ts"
import { RoomListings } from "./rooms/listings.ts"
import { RoomServer } from "./rooms/roomServer.ts"
import { GatewayHealth } from "./gateways/health.ts"
import { Broker } from "./mqtt/broker.ts"
import { MqttIngest } from "./mqtt/ingest.ts"
import { SessionCleaner } from "./sessions/cleaner.ts"
import { Sessions } from "./sessions/sessions.ts"

const Routes = Layer.mergeAll(
  HttpApiBuilder.layer(Api, { openapiPath: "/openapi.json" }).pipe(
    Layer.provide([OpsHandlers, ClientsHandlers, AdminHandlers])
  ),
  HttpApiScalar.layer(Api, { path: "/docs" }),
  PrometheusMetrics.layerHttp({ path: "/metrics" }),
  ErrorBodies
)

/** The domain services over storage and the rooms runtime. */
export const servicesLayer = <E, R>(storage: Layer.Layer<Layer.Success<ReturnType<typeof storageLayer>>, E, R>) =>
  Layer.mergeAll(MqttIngest, SessionCleaner).pipe(
    Layer.provideMerge(Layer.mergeAll(RoomServer.layer, Sessions.layer, GatewayHealth.layer, Broker.layer)),
    Layer.provideMerge(RoomListings.layer),
    Layer.provideMerge(RoomCatalog.layer),
    Layer.provideMerge(Layer.mergeAll(CatalogStore.layer, SessionStore.layer)),
    Layer.provideMerge(roomsLayer(singleProcessCluster)),
    Layer.provideMerge(storage)
  )

/** In-flight requests get this long to finish on SIGTERM. */
const gracefulShutdownTimeout = Duration.seconds(10)

/**
 * The service on `settings`. Tests may replace the database the settings
 * name and the logger. Exposes the HTTP server, whose address tells the port.
 */
export const serviceLayer = (
  settings: Settings,
  options: { readonly database?: typeof Database; readonly logger?: Layer.Layer<never> } = {}
) =>
  HttpRouter.serve(Routes, { disableLogger: true, routerConfig: { maxParamLength: 1000 } }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, {
      host: settings.listen.host,
      port: settings.listen.port,
      gracefulShutdownTimeout
    })),
    Layer.provide(servicesLayer(storageLayer(options.database ?? Database))),
    Layer.provide(Config.layer(settings)),
    Layer.provide(options.logger ?? loggingLayer(settings.logFormat, settings.logLevel))
  )
