// What the OpenAPI document says beyond the routes' own schemas: the answers
// any path can give before a route sees the request (405, 408, 431); the
// routes that are not JSON (Prometheus metrics, the live stream of room
// changes, the pages and this document); and the one rule a route checks
// after decoding (a keepalive's rfid). Checked by swagger-parser and
// Redocly's recommended rules, and against the server by the contract test.
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
const optionallyProtected = new Set(["/servers", "/metrics"])

type Spec = Record<string, any>

const jsonError = (description: string) => ({ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } })
const admin = [{ bearer: [] }, { basic: [] }]
const adminErrors = {
  "401": jsonError("No credential, or one that is wrong, expired or not trusted"),
  "403": jsonError("A valid credential without the admin role"),
  "429": jsonError("Too many failed logins from this address for this user name")
}
const text = (contentType: string, description: string) => ({ description, content: { [contentType]: { schema: { type: "string" } } } })

/** A route that answers something other than JSON. */
const plain = (operationId: string, tag: string, summary: string, description: string, answer: Spec, extra: Spec = {}) => ({
  get: { tags: [tag], operationId, summary, description, security: [], responses: { "200": answer }, ...extra }
})

const pageRoutes = (path: string, name: string, what: string): Record<string, Spec> => ({
  [path]: plain(`${name}Page`, "Pages", `The ${what}`, `The ${what}, served by the service itself with its script and styles (no CDN); it holds no data and reads the API with the user's credentials.`, text("text/html", "The page")),
  [`${path}/app.js`]: plain(`${name}Script`, "Pages", `The ${what}'s script`, "Bundled on first use.", text("text/javascript", "The script")),
  [`${path}/app.css`]: plain(`${name}Styles`, "Pages", `The ${what}'s styles`, "Bundled on first use.", text("text/css", "The styles"))
})

/** The routes the API definition does not describe (they answer no JSON). */
const otherRoutes: Record<string, Spec> = {
  "/metrics": plain(
    "metrics",
    "Operations",
    "Prometheus metrics",
    "Prometheus text format (prom-client): HTTP durations by route, gateway load, assignments, releases, failovers, cleanups, MQTT messages, process metrics. Open by default; admin access with METRICS_AUTH=true.",
    text("text/plain", "Prometheus text, version 0.0.4"),
    { security: [{}, ...admin], responses: { "200": text("text/plain", "Prometheus text, version 0.0.4"), ...adminErrors } }
  ),
  "/admin/machines/events": plain(
    "machineEvents",
    "Inspection",
    "Live room changes",
    "Server-Sent Events: `ready` once subscribed, then one `room` event per committed change of any room of the deployment (data: the room's row as GET /admin/machines lists it, with `last` when a transition was taken), one `catalog` event per room created, changed or removed (data: `{room, name, disabled, kind, removed}`), `reset` when this reader fell behind and changes were dropped (reload the listing), and a heartbeat comment every 15 s. Admin access.",
    text("text/event-stream", "An endless stream of events"),
    { security: admin, responses: { "200": text("text/event-stream", "An endless stream of events"), ...adminErrors } }
  ),
  ...pageRoutes("/inspect", "inspect", "room inspector page"),
  ...pageRoutes("/meet", "meet", "meeting page (seed 003)"),
  "/docs": plain("docs", "Pages", "The API documentation page", "This document, rendered.", text("text/html", "The page")),
  "/openapi.json": plain("openApi", "Pages", "This document", "The OpenAPI document of the service, generated from the API definition the server decodes with.", {
    description: "The document",
    content: { "application/json": { schema: { type: "object" } } }
  })
}

// PUT /users/{id} decodes rfid as optional (gxydb-api's clients send null
// for what they lack) and then refuses a keepalive without one (400
// protocol error): the document states the rule as the server applies it.
const requireFeed = (spec: Spec) => {
  const body = spec.paths["/users/{id}"]?.put?.requestBody?.content?.["application/json"]?.schema
  if (body?.properties?.rfid === undefined) return
  body.properties.rfid = {
    anyOf: [{ type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, { type: "string", minLength: 1, maxLength: 200 }],
    description: "The Janus feed id; a keepalive without one is refused (protocol error): nothing could close its session"
  }
  body.required = [...new Set([...(body.required ?? []), "rfid"])]
}

export const documentTransport = (spec: Spec): Spec => {
  spec.servers = [{ url: "/", description: "This service" }]
  // not licensed to others (package.json: private); the link says what the name means
  spec.info.license = { name: "UNLICENSED", url: "https://docs.npmjs.com/cli/configuring-npm/package-json#license" }
  spec.components ??= {}
  spec.components.schemas ??= {}
  spec.components.schemas.Error = errorBody
  // RFC 7235 schemes are case-insensitive, but OpenAPI's own schema wants them lower-case
  for (const scheme of Object.values(spec.components.securitySchemes ?? {}) as Array<Spec>) {
    if (typeof scheme.scheme === "string") scheme.scheme = scheme.scheme.toLowerCase()
  }
  requireFeed(spec)
  Object.assign(spec.paths, otherRoutes)
  spec.tags = [...(spec.tags ?? []), { name: "Pages", description: "Pages served by the service, and this document" }]
  for (const [path, operations] of Object.entries(spec.paths as Record<string, Record<string, Spec>>)) {
    for (const op of Object.values(operations)) {
      for (const [status, description] of Object.entries(transport)) op.responses[status] ??= jsonError(description)
      op.responses = Object.fromEntries(Object.entries(op.responses).sort(([a], [b]) => a.localeCompare(b)))
      if (optionallyProtected.has(path) && !(op.security ?? []).some((s: Spec) => Object.keys(s).length === 0)) op.security = [{}, ...(op.security ?? [])]
    }
  }
  return spec
}
