// The admin routes for who is where (definitions only): live sessions, listed
// and closed; room assignments, listed, released and moved. Added to the
// admin group in api.ts; handlers in admin.ts.
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint } from "effect/http-api"
import { roomStates } from "../../machines/room.machine.ts"
import { GatewayName, RoomIdParam, RoomIdView, wireExamples } from "../domain/room.ts"
import { memberFields } from "../domain/member.ts"
import { Count } from "../domain/text.ts"
import { UserId } from "../sessions/wireSchemas.ts"
import { BadRequest, Conflict, NotFound, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType } from "../domain/wireErrors.ts"
import { doc } from "./openapi.ts"
import { countParam, CursorParam, RowIdParam } from "./params.ts"

/** Most sessions or assignments answered by one call. */
export const maxAdminPage = 1000
export const defaultAdminPage = 100

const Timestamp = Schema.String.annotate({ description: "ISO 8601", examples: ["2026-11-22T17:24:52.110Z"] })

export const SessionView = Schema.Struct({
  /** The session's id: DELETE /admin/sessions/{id} closes it. */
  id: Count,
  user: Schema.String,
  room: RoomIdView,
  gateway: Schema.NullOr(Schema.String),
  gateway_session: Schema.NullOr(Count),
  ...memberFields,
  joined: Timestamp,
  /** The last keepalive (or the join, for a real-time connection). */
  keepalive: Timestamp
})

export const SessionList = Schema.Struct({
  sessions: Schema.Array(SessionView),
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: Schema.NullOr(Schema.String)
})

export const AssignmentView = Schema.Struct({
  room: RoomIdView,
  gateway: Schema.String,
  region: Schema.NullOr(Schema.String),
  /** The room machine's state; null when no machine has loaded the room yet (an assignment made before this service). */
  state: Schema.NullOr(Schema.Literals(roomStates)),
  /** Users the room counts on it. */
  users: Count,
  assigned_at: Timestamp,
  last_used_at: Timestamp
})

export const AssignmentList = Schema.Struct({
  assignments: Schema.Array(AssignmentView),
  next_cursor: Schema.NullOr(Schema.String)
})

/** A room's machine after an operator's release or reassign. */
export const AssignmentChange = Schema.Struct({
  room: RoomIdView,
  state: Schema.Literals(roomStates),
  /** Where the room is now (null: released). */
  gateway: Schema.NullOr(Schema.String),
  /** Where it was before. */
  previous_gateway: Schema.String,
  region: Schema.NullOr(Schema.String),
  sessions: Count
})

export const ReassignBody = Schema.Struct({
  gateway: Schema.optionalKey(GatewayName.annotate({ description: "The gateway to move the room to; absent: where the balancer chooses, as in a failover" }))
}).pipe(wireExamples([{ gateway: "gxy2" }, {}]))

const page = {
  limit: Schema.optional(countParam(maxAdminPage).annotate({ description: `Rows per page, 1 to ${maxAdminPage} (default ${defaultAdminPage})` })),
  cursor: Schema.optional(CursorParam)
}

const roomParam = { room: RoomIdParam }
const strict = { onExcessProperty: "error" } as const

export const listSessions = HttpApiEndpoint.get("listSessions", "/sessions", {
  query: {
    room: Schema.optional(RoomIdParam),
    gateway: Schema.optional(GatewayName),
    user: Schema.optional(UserId),
    ...page
  },
  success: SessionList,
  error: [BadRequest, ServiceUnavailable]
}).pipe(doc(
  "Live sessions",
  "Who is where: live sessions ordered by id, filtered by room, gateway and user (all given must match), paged (pass next_cursor as cursor)."
))

export const closeSession = HttpApiEndpoint.delete("closeSession", "/sessions/:id", {
  params: { id: RowIdParam("session") },
  success: SessionView,
  error: [BadRequest, NotFound, ServiceUnavailable]
}).pipe(doc(
  "Close a session",
  "Closes the session as a leave would: its room hears it (the last to leave starts the drain) and listings drop it at once; answers the closed session. A client still connected opens a new session with its next keepalive, as after a Janus leaving event. 404 when there is no such live session."
))

export const listAssignments = HttpApiEndpoint.get("listAssignments", "/assignments", {
  query: { gateway: Schema.optional(GatewayName), ...page },
  success: AssignmentList,
  error: [BadRequest, ServiceUnavailable]
}).pipe(doc(
  "Room assignments",
  "Which room is on which gateway (scale mode): every assignment with its room's state and users, filtered by gateway, paged (pass next_cursor as cursor)."
))

export const releaseAssignment = HttpApiEndpoint.post("releaseAssignment", "/assignments/:room/release", {
  params: roomParam,
  success: AssignmentChange,
  error: [BadRequest, NotFound, Conflict, ServiceUnavailable]
}).pipe(doc(
  "Release a room's assignment",
  "Frees the gateway's reservation of an empty room at once (a reservation nobody used, or a room draining), as the end of the drain does; the room's machine decides. 409 while users are in the room (or in legacy mode); 404 for an unknown room or one without an assignment."
))

export const reassignRoom = HttpApiEndpoint.post("reassignRoom", "/assignments/:room/reassign", {
  params: roomParam,
  payload: ReassignBody,
  success: AssignmentChange,
  error: [BadRequest, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, ServiceUnavailable]
}).annotate(HttpApi.PayloadParseOptions, strict).pipe(doc(
  "Move a room to another gateway",
  "The room's machine moves it, keeping its users and region: to the gateway named (enabled, not draining, not offline, in AVAILABLE_JANUS_SERVERS; capacity is the operator's call), or, with none named, where the balancer chooses avoiding its current gateway, as a failover does. Users learn the new gateway as they do after a failover: from POST /v2/room_server, the listings and the room change stream. 409 when the room is draining (nobody in it: release it), the gateway cannot take rooms, no other gateway can, or in legacy mode; 404 for an unknown room or one without an assignment; 400 for an unknown gateway."
))
