// The HTTP API definition: routes, inputs and outputs only (no server code),
// the source of the OpenAPI document at /openapi.json and the page at /docs.
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { roomStates } from "../../machines/room.machine.ts"
import { CountryCode, GatewayName, RoomNumber, RoomNumberParam } from "../domain/room.ts"
import { JanusEvents, UserId, UserSessionBody } from "../sessions/messages.ts"
import { BadRequest, Conflict, NotFound, ServerError, ServiceUnavailable } from "./errors.ts"

// ---------------------------------------------------------------------------
// Operations

export const Health = Schema.Struct({ status: Schema.Literal("ok") })

export const Readiness = Schema.Struct({
  status: Schema.Literal("ready"),
  database: Schema.String,
  mqtt: Schema.Literals(["connected", "off"])
})

export class OpsApi extends HttpApiGroup.make("ops", { topLevel: true })
  .add(
    HttpApiEndpoint.get("health", "/health", { success: Health }),
    HttpApiEndpoint.get("ready", "/ready", { success: Readiness, error: ServiceUnavailable })
  )
  .annotateMerge(OpenApi.annotations({ title: "Operations", description: "Liveness and readiness probes" }))
{}

// ---------------------------------------------------------------------------
// Clients (compatible with gxydb-api)

export const RoomServerRequest = Schema.Struct({
  room: RoomNumber,
  geo: Schema.optional(Schema.NullOr(Schema.Struct({ country_code: Schema.optional(Schema.NullOr(CountryCode)) })))
})

export const RoomServerAnswer = Schema.Struct({ janus: Schema.String })

export const GroupEntry = Schema.Struct({
  room: Schema.Number,
  janus: Schema.String,
  description: Schema.String,
  num_users: Schema.Number
})

export const LiveUser = Schema.Struct({
  id: Schema.String,
  display: Schema.String,
  email: Schema.String,
  janus: Schema.String,
  camera: Schema.Boolean,
  mic: Schema.Boolean,
  screen: Schema.Boolean,
  question: Schema.Boolean,
  self_test: Schema.Boolean,
  sound_test: Schema.Boolean,
  country: Schema.String,
  joined: Schema.Number,
  timestamp: Schema.Number
})

export const LiveRoom = Schema.Struct({
  room: Schema.Number,
  janus: Schema.String,
  description: Schema.String,
  num_users: Schema.Number,
  questions: Schema.Boolean,
  users: Schema.Array(LiveUser)
})

const roomParam = { room: RoomNumberParam }

export const Success = Schema.Struct({ result: Schema.Literal("success") })

export class ClientsApi extends HttpApiGroup.make("clients", { topLevel: true })
  .add(
    HttpApiEndpoint.post("roomServer", "/v2/room_server", {
      payload: RoomServerRequest,
      success: RoomServerAnswer,
      error: [BadRequest, NotFound, ServerError, ServiceUnavailable]
    }).annotate(HttpApi.PayloadParseOptions, { onExcessProperty: "error" }),
    HttpApiEndpoint.get("groups", "/groups", {
      query: { with_num_users: Schema.optional(Schema.Literals(["true", "false", "1", "0"])) },
      success: Schema.Struct({ rooms: Schema.Array(GroupEntry) })
    }),
    HttpApiEndpoint.get("liveRooms", "/rooms", { success: Schema.Array(LiveRoom) }),
    HttpApiEndpoint.get("liveRoom", "/room/:room", { params: roomParam, success: LiveRoom, error: NotFound }),
    HttpApiEndpoint.get("liveRoomAlias", "/rooms/:room", { params: roomParam, success: LiveRoom, error: NotFound }),
    HttpApiEndpoint.put("keepalive", "/users/:id", {
      params: { id: UserId },
      payload: UserSessionBody,
      success: Success,
      error: BadRequest
    }),
    HttpApiEndpoint.post("janusEvent", "/event", { payload: JanusEvents, success: Success })
  )
  .annotateMerge(OpenApi.annotations({
    title: "Clients",
    description: "Which gateway serves a room, and which rooms are in use (gxydb-api compatible)"
  }))
{}

// ---------------------------------------------------------------------------
// Admin

export const GatewayView = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  capacity: Schema.NullOr(Schema.Number),
  region: Schema.NullOr(Schema.String),
  enabled: Schema.Boolean,
  draining: Schema.Boolean,
  online: Schema.NullOr(Schema.Boolean)
})

const Capacity = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const Region = Schema.String.check(Schema.isMaxLength(50))

/** What an admin sets on a gateway (capacity null: MAX_SERVER_CAPACITY). */
const gatewaySettings = {
  description: Schema.optional(Schema.String),
  capacity: Schema.optional(Schema.NullOr(Capacity)),
  region: Schema.optional(Schema.NullOr(Region)),
  enabled: Schema.optional(Schema.Boolean),
  draining: Schema.optional(Schema.Boolean)
}

export const GatewayCreate = Schema.Struct({ name: GatewayName, ...gatewaySettings })

export const GatewayPatch = Schema.Struct(gatewaySettings)

export const RoomView = Schema.Struct({
  room: Schema.Number,
  name: Schema.String,
  default_gateway: Schema.NullOr(Schema.String),
  region: Schema.NullOr(Schema.String),
  join_code: Schema.String,
  disabled: Schema.Boolean
})

const RoomName = Schema.String.check(Schema.isNonEmpty(), Schema.isMaxLength(200))

export const RoomCreate = Schema.Struct({
  room: RoomNumber,
  name: RoomName,
  default_gateway: Schema.optional(Schema.NullOr(GatewayName)),
  region: Schema.optional(Schema.NullOr(Region)),
  disabled: Schema.optional(Schema.Boolean)
})

export const RoomPatch = Schema.Struct({
  name: Schema.optional(RoomName),
  default_gateway: Schema.optional(Schema.NullOr(GatewayName)),
  region: Schema.optional(Schema.NullOr(Region)),
  disabled: Schema.optional(Schema.Boolean)
})

export const Transition = Schema.Struct({
  seq: Schema.Number,
  from: Schema.String,
  event: Schema.String,
  to: Schema.String,
  gateway: Schema.NullOr(Schema.String),
  at: Schema.String
})

export const RoomMachineView = Schema.Struct({
  room: Schema.Number,
  state: Schema.Literals(roomStates),
  gateway: Schema.NullOr(Schema.String),
  region: Schema.NullOr(Schema.String),
  sessions: Schema.Number,
  deadline: Schema.NullOr(Schema.String),
  history: Schema.Array(Transition)
})

const gatewayParam = { name: GatewayName }
const strict = { onExcessProperty: "error" } as const

export class AdminApi extends HttpApiGroup.make("admin")
  .add(
    HttpApiEndpoint.get("listGateways", "/gateways", { success: Schema.Array(GatewayView) }),
    HttpApiEndpoint.post("createGateway", "/gateways", {
      payload: GatewayCreate,
      success: GatewayView.pipe(HttpApiSchema.status(201)),
      error: [BadRequest, Conflict]
    }).annotate(HttpApi.PayloadParseOptions, strict),
    HttpApiEndpoint.patch("updateGateway", "/gateways/:name", {
      params: gatewayParam,
      payload: GatewayPatch,
      success: GatewayView,
      error: [BadRequest, NotFound]
    }).annotate(HttpApi.PayloadParseOptions, strict),
    HttpApiEndpoint.get("listRooms", "/rooms", { success: Schema.Array(RoomView) }),
    HttpApiEndpoint.post("createRoom", "/rooms", {
      payload: RoomCreate,
      success: RoomView.pipe(HttpApiSchema.status(201)),
      error: [BadRequest, Conflict]
    }).annotate(HttpApi.PayloadParseOptions, strict),
    HttpApiEndpoint.get("getRoom", "/rooms/:room", { params: roomParam, success: RoomView, error: NotFound }),
    HttpApiEndpoint.patch("updateRoom", "/rooms/:room", {
      params: roomParam,
      payload: RoomPatch,
      success: RoomView,
      error: [BadRequest, NotFound]
    }).annotate(HttpApi.PayloadParseOptions, strict),
    HttpApiEndpoint.delete("removeRoom", "/rooms/:room", { params: roomParam, success: RoomView, error: NotFound }),
    HttpApiEndpoint.get("roomMachine", "/rooms/:room/machine", {
      params: roomParam,
      success: RoomMachineView,
      error: [NotFound, ServiceUnavailable]
    })
  )
  .prefix("/admin")
  .annotateMerge(OpenApi.annotations({
    title: "Admin",
    description: "Gateways, rooms and each room's machine (bound to loopback by default; authentication comes later)"
  }))
{}

export class Api extends HttpApi.make("room-orchestrator")
  .add(OpsApi)
  .add(ClientsApi)
  .add(AdminApi)
  .annotateMerge(OpenApi.annotations({ title: "room-orchestrator" }))
{}
