// The seed-003 room routes (definition only): create a room, find it by join
// code or id with its live users. Client access, like gxydb-api's routes.
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { ClientAccess } from "../auth/access.ts"
import { RoomIdParam, wireExamples } from "../domain/room.ts"
import { StoredName } from "../domain/text.ts"
import { RoomView, RoomWithUsers } from "../meetings/views.ts"
import { BadRequest, NotFound, ServiceUnavailable } from "../domain/wireErrors.ts"
import { doc } from "./openapi.ts"

export const maxRoomName = 200

export const CreateRoomBody = Schema.Struct({ name: StoredName(maxRoomName) }).pipe(wireExamples([{ name: "Evening lesson" }]))

const JoinCodeParam = Schema.String.annotate({ description: "The room's 6-character join code, in any case", examples: ["ROOM01"] }).check(
  Schema.makeFilter((s: string) => /^[A-Za-z0-9]{6}$/.test(s) || "must be a join code of 6 letters or digits", {
    toJsonSchema: () => ({ pattern: "^[A-Za-z0-9]{6}$" })
  })
)



const strict = { onExcessProperty: "error" } as const

export class MeetingsApi extends HttpApiGroup.make("meetings")
  .add(
    HttpApiEndpoint.post("create", "/create", {
      payload: CreateRoomBody,
      success: Schema.Struct({ room: RoomView }).pipe(HttpApiSchema.status(201)),
      error: [BadRequest, ServiceUnavailable]
    }).annotate(HttpApi.PayloadParseOptions, strict).pipe(
      doc("Create a room", "Creates a room with a generated id and a unique 6-character join code; unknown fields are refused.")
    ),
    HttpApiEndpoint.get("byJoinCode", "/join/:joinCode", {
      params: { joinCode: JoinCodeParam },
      success: Schema.Struct({ room: RoomWithUsers }),
      error: [BadRequest, NotFound, ServiceUnavailable]
    }).pipe(doc("A room by join code", "The room with this join code (any case) and its live users; 404 for an unknown or disabled room.")),
    HttpApiEndpoint.get("byId", "/:roomId", {
      params: { roomId: RoomIdParam },
      success: Schema.Struct({ room: RoomWithUsers }),
      error: [BadRequest, NotFound, ServiceUnavailable]
    }).pipe(doc("A room by id", "The room and its live users; 404 for an unknown or disabled room."))
  )
  .prefix("/api/rooms")
  .middleware(ClientAccess)
  .annotateMerge(OpenApi.annotations({
    title: "Rooms with join codes",
    description: "Seed 003's rooms: created here, joined by code over the real-time channel (Socket.IO at /socket.io/)"
  }))
{}
