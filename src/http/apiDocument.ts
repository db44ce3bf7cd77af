// GET /openapi.json: the document of the whole API. The API's routes serve
// all but three endpoints, which the lean routes serve; the document is made
// from the whole definition, so it lists every endpoint either serves.
import { Effect } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { OpenApi } from "effect/http-api"
import { Api } from "./api.ts"

export const ApiDocument = HttpRouter.use((router) => {
  let document: HttpServerResponse.HttpServerResponse | undefined
  return router.add("GET", "/openapi.json", Effect.sync(() => (document ??= HttpServerResponse.jsonUnsafe(OpenApi.fromApi(Api)))))
})
