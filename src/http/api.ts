// The HTTP API definition: routes, inputs and outputs only (no server code),
// the source of the OpenAPI document at /openapi.json and the page at /docs.
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { roomStates } from "../../machines/room.machine.ts"
import { AdminAccess, ClientAccess, EventsPassword, Forbidden, GatewayAccess, MetricsAccess, ShidurAccess } from "../auth/access.ts"
import { GroupEntry, LiveRoom } from "../domain/listing.ts"
import { GatewayName, OpenStruct, RequestGeo, RoomId, RoomIdParam, RoomIdView, wireExamples } from "../domain/room.ts"
import { Count, PositiveInt32, StoredJsonObject, StoredName, StoredText } from "../domain/text.ts"
import { JanusEvents, UserId, UserSessionBody } from "../sessions/wireSchemas.ts"
import { BadRequest, Conflict, NotFound, PayloadTooLarge, ServerError, ServiceUnavailable, UnsupportedMediaType } from "../domain/wireErrors.ts"
import { closeSession, listAssignments, listSessions, reassignRoom, releaseAssignment } from "./adminApi.ts"
import { GatewayLoad, InspectApi } from "./inspectApi.ts"
import { MeetingsApi } from "./meetingsApi.ts"
import { doc, documentTransport } from "./openapi.ts"

// ---------------------------------------------------------------------------
// Operations

export const Health = Schema.Struct({ status: Schema.Literal("ok") })

export const Readiness = Schema.Struct({
  status: Schema.Literal("ready"),
  database: Schema.String,
  mqtt: Schema.Literals(["connected", "off"]),
  /** Where rooms run: this process's runner address (null: one process) and how many of the shards it hosts now. */
  rooms: Schema.Struct({ runner: Schema.NullOr(Schema.String), shards: Schema.Number, of: Schema.Number })
})



export class OpsApi extends HttpApiGroup.make("ops", { topLevel: true })
  .add(
    HttpApiEndpoint.get("health", "/health", { success: Health }).pipe(
      doc("Liveness", "Answers while the process runs; it checks nothing else.")
    ),
    HttpApiEndpoint.get("healthCheck", "/health_check", { success: Health }).pipe(
      doc("Liveness (gxydb-api's name)", "Alias of /health, for clients of gxydb-api.")
    ),
    HttpApiEndpoint.get("ready", "/ready", { success: Readiness, error: ServiceUnavailable }).pipe(
      doc("Readiness", "200 while the database answers (within 2 s) and, when MQTT is configured, the broker is connected; 503 with the reason otherwise.")
    )
  )
  .add(
    HttpApiEndpoint.get("servers", "/servers", { success: Schema.Array(GatewayLoad), error: ServiceUnavailable }).middleware(MetricsAccess).pipe(
      doc(
        "Load per gateway",
        "Every registered gateway, then those of AVAILABLE_JANUS_SERVERS not registered: load against capacity, rooms, live users and flags, read from Postgres (every process answers the same). Open like /metrics; with METRICS_AUTH=true it needs admin access."
      )
    )
  )
  .annotateMerge(OpenApi.annotations({ title: "Operations", description: "Liveness, readiness and gateway load (metrics are GET /metrics, Prometheus text)" }))
{}

// ---------------------------------------------------------------------------
// Clients (compatible with gxydb-api)

export const RoomServerRequest = OpenStruct({
  room: RoomId,
  geo: RequestGeo
}).annotate({ description: "The Galaxy client posts its whole user object: fields other than room and geo are ignored" }).pipe(
  wireExamples([{ room: 2171, geo: { country_code: "IL" } }, { room: "2172" }])
)

export const RoomServerAnswer = Schema.Struct({ janus: Schema.String })

const roomParam = { room: RoomIdParam }

export const Success = Schema.Struct({ result: Schema.Literal("success") })

/** Which rooms a listing shows: configured rooms only (the default), or `all` (meeting rooms too). */
const kindQuery = {
  kind: Schema.optionalKey(Schema.Literals(["configured", "all"]).annotate({
    description: "all: list meeting rooms (created through /api/rooms/create) too; by default only the configured rooms Galaxy knows"
  }))
}

/**
 * gxydb-api's PUT /rooms/:id body: the room as /groups or /rooms lists it.
 * Only `extra` is written (absent or null clears it, as gxydb-api does); the
 * other fields are ignored.
 */
export const RoomExtraUpdate = OpenStruct({
  extra: Schema.optionalKey(Schema.NullOr(StoredJsonObject))
}).annotate({ description: "The room as listed; only extra is written (absent or null clears it), other fields are ignored" }).pipe(
  wireExamples([
    { room: 2171, janus: "gxy1", description: "Room 1", questions: false, num_users: 3, region: "", extra: { vip: true } },
    { room: 2171, extra: null }
  ])
)

export const roomServer = HttpApiEndpoint.post("roomServer", "/v2/room_server", {
  payload: RoomServerRequest,
  success: RoomServerAnswer,
  error: [BadRequest, NotFound, PayloadTooLarge, ServerError, ServiceUnavailable]
}).pipe(doc(
  "The gateway that serves a room",
  "Scale mode: the room's machine answers its gateway, choosing one (least loaded, regional first) for the room's first user; everyone after gets the same. Legacy mode: the room's default gateway (500 when it is missing or disabled). 404 unknown or disabled room; 503 when no gateway is online. Unknown fields are ignored and any content type is read as JSON."
))

const groups = HttpApiEndpoint.get("groups", "/groups", {
  // gxydb-api counts users only for exactly "true"; any other value means false
  query: {
    with_num_users: Schema.optionalKey(Schema.String.annotate({ description: "true: fill num_users and questions; any other value counts as false", examples: ["true"] })),
    ...kindQuery
  },
  error: [BadRequest, ServiceUnavailable],
  success: Schema.Struct({ rooms: Schema.Array(GroupEntry) })
}).pipe(doc("Enabled rooms", "Every enabled configured room with its default gateway, sorted by description (meeting rooms too with kind=all); live user counts with with_num_users=true."))

const liveRooms = HttpApiEndpoint.get("liveRooms", "/rooms", { query: kindQuery, success: Schema.Array(LiveRoom), error: [BadRequest, ServiceUnavailable] }).pipe(
  doc("Rooms in use", "Configured rooms with live sessions and their users (meeting rooms too with kind=all); janus is the live assignment in scale mode, the default gateway otherwise. The answer carries an ETag: with If-None-Match naming it, an unchanged listing is a 304 with no body; gzip-encoded when Accept-Encoding allows.")
)

export const liveRoom = HttpApiEndpoint.get("liveRoom", "/room/:room", { params: roomParam, success: LiveRoom, error: [BadRequest, NotFound, ServiceUnavailable] }).pipe(
  doc("One room and its users", "A room that exists with nobody in it has users: []; 404 for an unknown or disabled room.")
)

const liveRoomAlias = HttpApiEndpoint.get("liveRoomAlias", "/rooms/:room", { params: roomParam, success: LiveRoom, error: [BadRequest, NotFound, ServiceUnavailable] }).pipe(
  doc("One room and its users (alias)", "Same as GET /room/{room}.")
)

export const keepalive = HttpApiEndpoint.put("keepalive", "/users/:id", {
  params: { id: UserId },
  payload: UserSessionBody,
  success: Success,
  error: [BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable]
}).pipe(doc(
  "Session keepalive",
  "gxydb-api's user body: creates the session on its first keepalive (the room adopts the session's gateway if it has none), refreshes it after. 400 protocol error for an unknown room or gateway or an empty rfid. Unknown fields are ignored; any content type is read as JSON."
))

const janusEvent = HttpApiEndpoint.post("janusEvent", "/event", {
  payload: JanusEvents,
  success: Success,
  error: [BadRequest, Forbidden, PayloadTooLarge, ServiceUnavailable]
}).middleware(GatewayAccess).pipe(doc(
  "Janus events",
  "One Janus event-handler event or a batch. Videoroom leaving, kicked and unpublished close the sessions of the feed in event.data.id; other events are accepted and ignored. Gateways authenticate with their events password, and then close sessions on their own gateway only: an event whose emitter names another registered gateway is 403."
))

const roomExtra = HttpApiEndpoint.put("roomExtra", "/rooms/:room", {
  params: roomParam,
  payload: RoomExtraUpdate,
  success: Success,
  error: [BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable]
}).middleware(ShidurAccess).pipe(doc(
  "Change a room's extra (gxydb-api's room update)",
  "What Galaxy's Shidur and Admin apps send to flag rooms (VIP rooms, menu groups): the room as listed, of which only extra is written (absent or null clears it); /groups and /rooms show it at once. Role gxy_shidur or an admin role, or the service user; 404 for an unknown room; audited as room.extra."
))

const clientsDocument = OpenApi.annotations({
  title: "Clients",
  description: "Which gateway serves a room, and which rooms are in use (gxydb-api compatible)"
})

/** The clients' endpoints, as the API document lists them. */
export class ClientsApi extends HttpApiGroup.make("clients", { topLevel: true })
  .add(roomServer, groups, liveRooms, liveRoom, liveRoomAlias, keepalive)
  .middleware(ClientAccess)
  .add(janusEvent, roomExtra)
  .annotateMerge(clientsDocument)
{}

/**
 * The clients' endpoints the API's routes serve: all but the three of a
 * lesson start (`roomServer`, `liveRoom`, `keepalive`), which plain router
 * routes serve with these same definitions (src/http/leanRoutes.ts).
 */
export class ServedClientsApi extends HttpApiGroup.make("clients", { topLevel: true })
  .add(groups, liveRooms, liveRoomAlias)
  .middleware(ClientAccess)
  .add(janusEvent, roomExtra)
  .annotateMerge(clientsDocument)
{}

// ---------------------------------------------------------------------------
// Admin

export const GatewayView = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  capacity: Schema.NullOr(Schema.Int),
  region: Schema.NullOr(Schema.String),
  enabled: Schema.Boolean,
  draining: Schema.Boolean,
  online: Schema.NullOr(Schema.Boolean)
})

const Capacity = PositiveInt32
const Region = StoredText(50)

/** What an admin sets on a gateway (capacity null: MAX_SERVER_CAPACITY). */
const gatewaySettings = {
  description: Schema.optionalKey(StoredText(1000)),
  capacity: Schema.optionalKey(Schema.NullOr(Capacity)),
  region: Schema.optionalKey(Schema.NullOr(Region)),
  enabled: Schema.optionalKey(Schema.Boolean),
  draining: Schema.optionalKey(Schema.Boolean)
}

export const GatewayCreate = Schema.Struct({ name: GatewayName, ...gatewaySettings, events_password: Schema.optionalKey(EventsPassword) }).pipe(
  wireExamples([{ name: "gxy13", description: "Frankfurt 1", capacity: 300, region: "DE", enabled: true, draining: false, events_password: "gxy13-events" }])
)

/** `events_password: null` removes it (then only the service user may post that gateway's events). */
export const GatewayPatch = Schema.Struct({ ...gatewaySettings, events_password: Schema.optionalKey(Schema.NullOr(EventsPassword)) }).pipe(
  wireExamples([{ capacity: 500, draining: false }, { draining: true }, { capacity: null, events_password: null }])
)

export const GatewayListEntry = Schema.Struct({ ...GatewayView.fields, events_password_set: Schema.Boolean })

const RoomExtra = Schema.NullOr(StoredJsonObject)

export const RoomView = Schema.Struct({
  room: RoomIdView,
  name: Schema.String,
  default_gateway: Schema.NullOr(Schema.String),
  region: Schema.NullOr(Schema.String),
  join_code: Schema.String,
  disabled: Schema.Boolean,
  extra: Schema.Unknown
})

const RoomName = StoredName(200)

export const RoomCreate = Schema.Struct({
  room: RoomId,
  name: RoomName,
  default_gateway: Schema.optionalKey(Schema.NullOr(GatewayName)),
  region: Schema.optionalKey(Schema.NullOr(Region)),
  disabled: Schema.optionalKey(Schema.Boolean),
  extra: Schema.optionalKey(RoomExtra)
}).pipe(wireExamples([{ room: 5001, name: "Lesson 1", default_gateway: "gxy5", region: "IL", disabled: false, extra: { lang: "he" } }]))

export const RoomPatch = Schema.Struct({
  name: Schema.optionalKey(RoomName),
  default_gateway: Schema.optionalKey(Schema.NullOr(GatewayName)),
  region: Schema.optionalKey(Schema.NullOr(Region)),
  disabled: Schema.optionalKey(Schema.Boolean),
  extra: Schema.optionalKey(RoomExtra)
}).pipe(wireExamples([{ name: "Room 1 (morning)", default_gateway: "gxy2" }, { disabled: true }, { region: null, extra: null }]))

export const Transition = Schema.Struct({
  seq: Count,
  from: Schema.String,
  event: Schema.String,
  to: Schema.String,
  gateway: Schema.NullOr(Schema.String),
  /** Sessions the room counted after the step (unknown for rows older than this field). */
  sessions: Schema.NullOr(Count),
  at: Schema.String
})

export const RoomMachineView = Schema.Struct({
  room: RoomIdView,
  state: Schema.Literals(roomStates),
  gateway: Schema.NullOr(Schema.String),
  region: Schema.NullOr(Schema.String),
  sessions: Count,
  deadline: Schema.NullOr(Schema.String),
  history: Schema.Array(Transition)
})

const gatewayParam = { name: GatewayName }
const strict = { onExcessProperty: "error" } as const

/** Admin bodies: unknown fields refused, JSON content type required. */
const strictBody = [BadRequest, PayloadTooLarge, UnsupportedMediaType] as const

export class AdminApi extends HttpApiGroup.make("admin")
  .add(
    HttpApiEndpoint.get("listGateways", "/gateways", { success: Schema.Array(GatewayListEntry), error: ServiceUnavailable }).pipe(
      doc("List gateways", "Every registered gateway with its settings, status and whether it has an events password.")
    ),
    HttpApiEndpoint.post("createGateway", "/gateways", {
      payload: GatewayCreate,
      success: GatewayView.pipe(HttpApiSchema.status(201)),
      error: [...strictBody, Conflict, ServiceUnavailable]
    }).annotate(HttpApi.PayloadParseOptions, strict).pipe(
      doc("Register a gateway", "201 with the gateway; 409 when the name is taken. The events password is stored as a bcrypt hash and never returned.")
    ),
    HttpApiEndpoint.patch("updateGateway", "/gateways/:name", {
      params: gatewayParam,
      payload: GatewayPatch,
      success: GatewayView,
      error: [...strictBody, NotFound, ServiceUnavailable]
    }).annotate(HttpApi.PayloadParseOptions, strict).pipe(
      doc(
        "Change a gateway",
        "Capacity (null: MAX_SERVER_CAPACITY), region, enabled, draining (keeps its rooms, takes no new ones), events password (null removes it). Placement sees the change at once."
      )
    ),
    HttpApiEndpoint.get("listRooms", "/rooms", { success: Schema.Array(RoomView), error: ServiceUnavailable }).pipe(
      doc("List rooms", "Every room with its default gateway, region and join code.")
    ),
    HttpApiEndpoint.post("createRoom", "/rooms", {
      payload: RoomCreate,
      success: RoomView.pipe(HttpApiSchema.status(201)),
      error: [...strictBody, Conflict, ServiceUnavailable]
    }).annotate(HttpApi.PayloadParseOptions, strict).pipe(
      doc("Create a room", "201 with the room and a generated 6-character join code; 409 when the id is taken; 400 when the default gateway does not exist.")
    ),
    HttpApiEndpoint.get("getRoom", "/rooms/:room", { params: roomParam, success: RoomView, error: [BadRequest, NotFound, ServiceUnavailable] }).pipe(
      doc("One room", "The room's settings; 404 when there is none.")
    ),
    HttpApiEndpoint.patch("updateRoom", "/rooms/:room", {
      params: roomParam,
      payload: RoomPatch,
      success: RoomView,
      error: [...strictBody, NotFound, ServiceUnavailable]
    }).annotate(HttpApi.PayloadParseOptions, strict).pipe(
      doc("Change a room", "Name, default gateway, region, disabled, extra; the room catalog follows at once.")
    ),
    HttpApiEndpoint.delete("removeRoom", "/rooms/:room", { params: roomParam, success: RoomView, error: [BadRequest, NotFound, ServiceUnavailable] }).pipe(
      doc("Remove a room", "Answers the removed room; 404 when there is none.")
    ),
    HttpApiEndpoint.get("roomMachine", "/rooms/:room/machine", {
      params: roomParam,
      success: RoomMachineView,
      error: [BadRequest, NotFound, ServiceUnavailable]
    }).pipe(doc("A room's machine", "State, gateway, region, sessions, the pending deadline and the transition history, newest last.")),
    HttpApiEndpoint.post("reloadRoom", "/rooms/:room/reload", {
      params: roomParam,
      success: RoomMachineView,
      error: [BadRequest, NotFound, ServiceUnavailable]
    }).pipe(doc(
      "Reload a room",
      "After its rows were edited by hand: the room forgets what it holds in memory, loads itself again from Postgres and answers its machine as stored."
    ))
  )
  .add(listSessions, closeSession, listAssignments, releaseAssignment, reassignRoom)
  .prefix("/admin")
  .middleware(AdminAccess)
  .annotateMerge(OpenApi.annotations({
    title: "Admin",
    description: "Gateways, rooms, each room's machine, sessions and assignments (roles gxy_admin or gxy_root, or the service user); every change is logged with who made it"
  }))
{}

const apiDocument = OpenApi.annotations({
  title: "room-orchestrator",
  version: "0.1.0",
  description:
    "Decides which Janus gateway hosts each video-conference room: sticky, balanced, race-free. Every error is {\"error\": \"<clear message>\"}; 400 names the field. Any path also answers 405 (a method it does not take, with Allow), 408 (a request not received within REQUEST_TIMEOUT) and 431 (headers over 16 KiB).",
  transform: documentTransport
})

/** The whole API: the source of the OpenAPI document and the docs page. */
export class Api extends HttpApi.make("room-orchestrator")
  .add(OpsApi)
  .add(ClientsApi)
  .add(AdminApi)
  .add(InspectApi)
  .add(MeetingsApi)
  .annotateMerge(apiDocument)
{}

/** What the API's routes serve: `Api` but the lean routes' three endpoints. */
export class ServedApi extends HttpApi.make("room-orchestrator")
  .add(OpsApi)
  .add(ServedClientsApi)
  .add(AdminApi)
  .add(InspectApi)
  .add(MeetingsApi)
  .annotateMerge(apiDocument)
{}
