// The inspection endpoints (under /admin): the machine definition, every
// room's machine at once (paged, filterable), one room's history, and the
// gateways' load. The live stream and the page are plain routes
// (src/inspect/routes.ts): they are not JSON.
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "effect/http-api"
import { roomStates } from "../../machines/room.machine.ts"
import { AdminAccess } from "../auth/access.ts"
import { GatewayName } from "../domain/room.ts"
import { Count, StoredText } from "../domain/text.ts"
import { BadRequest, NotFound, ServiceUnavailable } from "../domain/wireErrors.ts"
import { countParam, CursorParam, patterned } from "./params.ts"

/** A room id as it appears on the wire: a number, or a string id. */
export const RoomIdOut = Schema.Union([Schema.Int, Schema.String])

/** A room id in a query: 1–64 characters of `[A-Za-z0-9_.:-]`. */
const RoomIdParam = patterned(/^[A-Za-z0-9_.:-]{1,64}$/, "must be a room id (1–64 letters, digits or _ . : -)").annotate({ examples: ["2171"] })

const StateParam = patterned(/^[A-Za-z0-9_.:-]{1,64}$/, "must be a state name").annotate({ examples: roomStates })

const SearchParam = StoredText(64).annotate({ description: "A piece of the room id or name, any case", examples: ["lesson"] })

/** Most rooms answered by one call to GET /admin/machines. */
export const maxPage = 5000
export const defaultPage = 1000
/** Most transitions answered by one call to GET /admin/machines/history. */
export const maxHistory = 1000
export const defaultHistory = 200

export const MachineGraphView = Schema.Struct({
  id: Schema.String,
  initial: Schema.String,
  states: Schema.Array(Schema.String),
  transitions: Schema.Array(Schema.Struct({
    from: Schema.String,
    to: Schema.String,
    event: Schema.String,
    guard: Schema.NullOr(Schema.String),
    actions: Schema.Array(Schema.String)
  }))
})

export const LastTransition = Schema.Struct({
  seq: Count,
  from: Schema.String,
  event: Schema.String,
  to: Schema.String,
  gateway: Schema.NullOr(Schema.String),
  /** Sessions the room counted after the step (history only; unknown for old rows). */
  sessions: Schema.optionalKey(Schema.NullOr(Count)),
  at: Schema.String
})

export const PendingTimer = Schema.Struct({
  /** When it fires (ISO 8601). */
  at: Schema.String,
  /** The timer, as the history names it: `after drainGrace`, `after assignmentTtl`. */
  event: Schema.String,
  /** The state it takes the room to. */
  to: Schema.String,
  /** Whether it frees the room's gateway. */
  releases: Schema.Boolean
}).annotate({ description: "The room's pending timer, only when firing it would change the room (an assigned room with users keeps its gateway past its TTL: no timer)" })

export const MachineView = Schema.Struct({
  room: RoomIdOut,
  name: Schema.String,
  disabled: Schema.Boolean,
  state: Schema.String,
  gateway: Schema.NullOr(Schema.String),
  region: Schema.NullOr(Schema.String),
  sessions: Count,
  /** When its stored timer fires (ISO 8601), if one is stored, whether or not it would act: see `timer`. */
  deadline: Schema.NullOr(Schema.String),
  timer: Schema.NullOr(PendingTimer),
  seq: Count,
  updated_at: Schema.NullOr(Schema.String),
  last: Schema.NullOr(LastTransition)
})

export const MachineList = Schema.Struct({
  /** The server's clock, so a page can count deadlines down without trusting its own. */
  now: Schema.String,
  /** Rooms per state, over every room (not only this page). */
  counts: Schema.Record(Schema.String, Count),
  rooms: Schema.Array(MachineView),
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: Schema.NullOr(Schema.String)
})

export const RoomHistory = Schema.Struct({
  room: RoomIdOut,
  history: Schema.Array(LastTransition)
})

export const GatewayLoad = Schema.Struct({
  name: Schema.String,
  region: Schema.NullOr(Schema.String),
  /** Its own capacity, or MAX_SERVER_CAPACITY. */
  capacity: Count,
  /** Its load counter: Σ over its assigned rooms of max(users, AVG_ROOM_OCCUPANCY, a young room's expected size). */
  load: Schema.Finite,
  /** Of `load`, what young rooms reserve for users expected but not yet there: the real load is load − reserved. */
  reserved: Schema.Finite,
  /** Rooms assigned to it. */
  rooms: Count,
  /** Live sessions on it. */
  users: Count,
  enabled: Schema.Boolean,
  draining: Schema.Boolean,
  /** From MQTT; null while unknown. */
  online: Schema.NullOr(Schema.Boolean),
  /** Listed in AVAILABLE_JANUS_SERVERS. */
  available: Schema.Boolean
})

export class InspectApi extends HttpApiGroup.make("inspect")
  .add(
    HttpApiEndpoint.get("machineDefinition", "/machine", { success: MachineGraphView })
      .annotate(OpenApi.Summary, "The room machine's definition")
      .annotate(OpenApi.Description, "States and transitions (event, guard, actions) of the machine every room runs, read from its definition."),
    HttpApiEndpoint.get("listMachines", "/machines", {
      query: {
        state: Schema.optional(StateParam),
        gateway: Schema.optional(GatewayName),
        room: Schema.optional(RoomIdParam),
        q: Schema.optional(SearchParam),
        limit: Schema.optional(countParam(maxPage)),
        cursor: Schema.optional(CursorParam)
      },
      success: MachineList,
      error: [BadRequest, ServiceUnavailable]
    })
      .annotate(OpenApi.Summary, "Every room's machine")
      .annotate(OpenApi.Description, "Rooms with their state, gateway, sessions, pending timer (what it will do, only when it can act) and last transition, read from Postgres; filtered and paged (pass next_cursor as cursor)."),
    HttpApiEndpoint.get("roomHistory", "/machines/history", {
      query: {
        room: RoomIdParam,
        limit: Schema.optional(countParam(maxHistory))
      },
      success: RoomHistory,
      error: [BadRequest, NotFound, ServiceUnavailable]
    })
      .annotate(OpenApi.Summary, "A room's history")
      .annotate(OpenApi.Description, "The room's transitions, newest first; 404 for an unknown room."),
    HttpApiEndpoint.get("gatewayLoads", "/gateway-loads", { success: Schema.Array(GatewayLoad), error: ServiceUnavailable })
      .annotate(OpenApi.Summary, "Gateway loads")
      .annotate(OpenApi.Description, "The same view as GET /servers: load against capacity, rooms, users and flags per gateway.")
  )
  .middleware(AdminAccess)
  .prefix("/admin")
  .annotateMerge(OpenApi.annotations({
    title: "Inspection",
    description:
      "Every room's machine at once, the machine definition, room histories and gateway loads; the page is GET /inspect and the live stream GET /admin/machines/events (Server-Sent Events)"
  }))
{}
