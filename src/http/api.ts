// The HTTP API definition: routes, inputs and outputs only (no server code),
// the source of the OpenAPI document.
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, OpenApi } from "effect/http-api"
import { ServiceUnavailable } from "./errors.ts"

export const Health = Schema.Struct({ status: Schema.Literal("ok") })

export const Readiness = Schema.Struct({
  status: Schema.Literal("ready"),
  database: Schema.String
})

export class OpsApi extends HttpApiGroup.make("ops", { topLevel: true })
  .add(
    HttpApiEndpoint.get("health", "/health", { success: Health }),
    HttpApiEndpoint.get("ready", "/ready", { success: Readiness, error: ServiceUnavailable })
  )
  .annotateMerge(OpenApi.annotations({ title: "Operations", description: "Liveness and readiness probes" }))
{}

export class Api extends HttpApi.make("room-orchestrator")
  .add(OpsApi)
  .annotateMerge(OpenApi.annotations({ title: "room-orchestrator" }))
{}
