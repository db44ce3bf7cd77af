// What the OpenAPI document says beyond the routes' own schemas: the
// answers any path can give before a
// route sees the request (405, 408, 431), so the document lists every status
// the server answers.
import type { Context } from "effect"
import { OpenApi } from "effect/http-api"

/** An endpoint, as far as annotating it goes. */
export interface Annotatable {
  readonly annotate: <I, S>(key: Context.Key<I, S>, value: S) => this
}

/** Summary and description of an endpoint in the OpenAPI document. */
export const doc = (summary: string, description: string) => <E extends Annotatable>(endpoint: E): E =>
  endpoint.annotate(OpenApi.Summary, summary).annotate(OpenApi.Description, description)

const errorBody = {
  type: "object",
  properties: { error: { type: "string", description: "What was wrong, in one line" } },
  required: ["error"],
  additionalProperties: false
}

/** Answered by the HTTP layer on any path. */
const transport: Record<string, string> = {
  "405": "The path does not take this method; Allow lists those it takes",
  "408": "The request (headers and body) did not arrive within REQUEST_TIMEOUT",
  "431": "The request line and headers are over 16 KiB"
}

/** Routes open unless a setting puts them behind admin access (METRICS_AUTH=true). */
const optionallyProtected = new Set(["/servers"])

type Spec = Record<string, any>

export const documentTransport = (spec: Spec): Spec => {
  spec.components ??= {}
  spec.components.schemas ??= {}
  spec.components.schemas.Error = errorBody
  for (const [path, operations] of Object.entries(spec.paths as Record<string, Record<string, Spec>>)) {
    for (const op of Object.values(operations)) {
      for (const [status, description] of Object.entries(transport)) {
        op.responses[status] ??= { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } }
      }
      op.responses = Object.fromEntries(Object.entries(op.responses).sort(([a], [b]) => a.localeCompare(b)))
      if (optionallyProtected.has(path)) op.security = [{}, ...(op.security ?? [])]
    }
  }
  return spec
}
