// The whole service as one layer: storage, then the rooms runtime and the
// services over it, then the HTTP server, so the port only opens once the
// database is ready (early connections are refused, never left hanging), and
// last the real-time channel on the same port.
import { Duration, Layer } from "effect"
import { HttpRouter } from "effect/http"
import { HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import { authLayer } from "./auth/authenticator.ts"
import { accessLayer, protectRoutes } from "./auth/http.ts"
import { AppConfig, type Settings } from "./config.ts"
import { CatalogStore } from "./db/catalogStore.ts"
import { Database } from "./db/database.ts"
import { roomRequestFields } from "./domain/room.ts"
import { SessionStore } from "./db/sessionStore.ts"
import { PlannerStatistics, StatisticsKeeper } from "./db/statistics.ts"
import { readyDatabase } from "./db/readyDatabase.ts"
import { Admission } from "./http/admission.ts"
import { AdminHandlers } from "./http/admin.ts"
import { routerConfig, withAllowedMethods } from "./http/allowedMethods.ts"
import { Api, ServedApi } from "./http/api.ts"
import { ApiDocument } from "./http/apiDocument.ts"
import { LeanRoutes } from "./http/leanRoutes.ts"
import { ClientsHandlers } from "./http/clients.ts"
import { CompressedStatic } from "./http/compression.ts"
import { InspectHandlers } from "./http/inspect.ts"
import { ErrorBodies } from "./http/middleware.ts"
import { OpsHandlers } from "./http/ops.ts"
import { MeetingsHandlers } from "./http/meetings.ts"
import { listeningServer, nodeServerLayer } from "./serving/server.ts"
import { Cors, JsonBodies } from "./http/corsAndBodies.ts"
import { InspectPage, InspectStream } from "./inspect/routes.ts"
import { loggingLayer } from "./logging.ts"
import { DeploymentGauges } from "./gateways/gauges.ts"
import { CurrentMetrics, makeFamilies } from "./metrics/families.ts"
import { MetricsRoute, NoteMatchedRoute, requestMetrics } from "./metrics/http.ts"
import { MeetPage, realtimeLayer } from "./realtime/layer.ts"
import { Meetings } from "./meetings/meetings.ts"
import { RoomCatalog } from "./rooms/catalog.ts"
import { Cluster } from "./rooms/cluster.ts"
import { roomsLayer } from "./rooms/layer.ts"
import { RoomListings } from "./rooms/listings.ts"
import { MeetingRoomSweep } from "./rooms/meetingRooms.ts"
import { RoomReadView } from "./rooms/readView.ts"
import { RoomGateway } from "./rooms/roomGateway.ts"
import { CounterReconciliation } from "./gateways/counters.ts"
import { FailoverSweep } from "./gateways/failover.ts"
import { GatewayHealth } from "./gateways/health.ts"
import { GatewayLoads } from "./gateways/loads.ts"
import { Broker } from "./mqtt/broker.ts"
import { MqttIngest } from "./mqtt/ingest.ts"
import { SessionCleaner } from "./sessions/cleaner.ts"
import { sessionFieldNames } from "./sessions/wireSchemas.ts"
import { Sessions } from "./sessions/sessions.ts"
import { tracingLayer } from "./tracing.ts"

/** Optional fields of client messages that may be normalised or dropped, counted from 0. */
const clientFields = [...roomRequestFields, ...sessionFieldNames]

const Routes = (settings: Settings) =>
  withAllowedMethods(Layer.mergeAll(
    HttpApiBuilder.layer(ServedApi).pipe(
      Layer.provide([OpsHandlers, ClientsHandlers, AdminHandlers, InspectHandlers, MeetingsHandlers]),
      Layer.provide(accessLayer)
    ),
    LeanRoutes,
    ApiDocument,
    HttpApiScalar.layer(Api, { path: "/docs" }).pipe(Layer.provide(CompressedStatic)),
    settings.metricsAuth ? MetricsRoute.pipe(Layer.provide(protectRoutes("admin"))) : MetricsRoute,
    InspectPage,
    MeetPage,
    InspectStream.pipe(Layer.provide(protectRoutes("admin"))),
    ErrorBodies,
    JsonBodies,
    Admission,
    Cors
  )).pipe(Layer.provide(NoteMatchedRoute))

/** The domain services over storage and the rooms runtime. */
export const servicesLayer = <E, R>(storage: Layer.Layer<Layer.Success<ReturnType<typeof readyDatabase>>, E, R>) =>
  Layer.mergeAll(MqttIngest, SessionCleaner, FailoverSweep, MeetingRoomSweep, CounterReconciliation, StatisticsKeeper, Meetings.layer, DeploymentGauges).pipe(
    Layer.provideMerge(Layer.mergeAll(RoomGateway.layer, Sessions.layer, GatewayHealth.layer, GatewayLoads.layer, Broker.layer)),
    Layer.provideMerge(RoomReadView.layer),
    Layer.provideMerge(RoomListings.layer),
    Layer.provideMerge(RoomCatalog.layer),
    Layer.provideMerge(Layer.mergeAll(CatalogStore.layer, SessionStore.layer, PlannerStatistics.layer)),
    Layer.provideMerge(roomsLayer(Cluster)),
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
  // The real-time channel attaches to the node server once the routes serve (it wraps their listeners).
  realtimeLayer.pipe(
    Layer.provideMerge(HttpRouter.serve(Routes(settings), { disableLogger: true, routerConfig, middleware: requestMetrics })),
    Layer.provideMerge(nodeServerLayer({ host: settings.listen.host, port: settings.listen.port, gracefulShutdownTimeout })),
    // One authenticator for the routes and the channel.
    Layer.provide(authLayer),
    Layer.provide(servicesLayer(readyDatabase(options.database ?? Database))),
    // Listening before anything else starts: /health answers while the database is awaited.
    Layer.provideMerge(listeningServer(settings, settings.listen)),
    Layer.provide(AppConfig.layer(settings)),
    Layer.provide(Layer.succeed(CurrentMetrics, makeFamilies({ gateways: settings.availableJanusServers, clientFields }))),
    Layer.provide(options.logger ?? loggingLayer(settings.logFormat, settings.logLevel)),
    Layer.provide(tracingLayer(settings))
  )
