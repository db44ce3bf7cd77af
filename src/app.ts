// The whole service as one layer: storage first, then the HTTP server, so
// the port only opens once the database is ready (early connections are
// refused, never left hanging).
import { NodeHttpServer } from "@effect/platform-node"
import { Duration, Layer } from "effect"
import { HttpRouter } from "effect/http"
import { HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import { createServer } from "node:http"
import { Config, type Settings } from "./config.ts"
import { Storage } from "./db/storage.ts"
import { Api } from "./http/api.ts"
import { OpsHandlers } from "./http/ops.ts"

const Routes = Layer.mergeAll(
  HttpApiBuilder.layer(Api, { openapiPath: "/openapi.json" }).pipe(Layer.provide(OpsHandlers)),
  HttpApiScalar.layer(Api, { path: "/docs" })
)

/** In-flight requests get this long to finish on SIGTERM. */
const gracefulShutdownTimeout = Duration.seconds(10)

export const serviceLayer = (settings: Settings) =>
  HttpRouter.serve(Routes, { disableLogger: true }).pipe(
    Layer.provide(NodeHttpServer.layer(createServer, {
      host: settings.listen.host,
      port: settings.listen.port,
      gracefulShutdownTimeout
    })),
    Layer.provide(Storage),
    Layer.provide(Config.layer(settings))
  )
