// Handlers of the client endpoints: decode → one service → encode.
import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { RoomListings } from "../rooms/listings.ts"
import { RoomServer } from "../rooms/roomServer.ts"
import { toSessionInput } from "../sessions/messages.ts"
import { Sessions } from "../sessions/sessions.ts"
import { Api } from "./api.ts"
import { BadRequest, NotFound } from "./errors.ts"
import { asHttpError } from "./failures.ts"

export const ClientsHandlers = HttpApiBuilder.group(Api, "clients", Effect.fn(function*(handlers) {
  const roomServer = yield* RoomServer
  const listings = yield* RoomListings
  const sessions = yield* Sessions
  const success = { result: "success" as const }

  const liveRoom = ({ params }: { params: { room: number } }) =>
    Effect.flatMap(listings.live(params.room), ([room]) =>
      room === undefined ? Effect.fail(new NotFound({ error: `room ${params.room} has no users` })) : Effect.succeed(room))

  return handlers
    .handle("roomServer", ({ payload }) =>
      roomServer.serverFor(payload.room, payload.geo?.country_code ?? undefined).pipe(
        Effect.map((janus) => ({ janus })),
        asHttpError
      ))
    .handle("groups", ({ query }) =>
      Effect.map(listings.groups(query.with_num_users === "true" || query.with_num_users === "1"), (rooms) => ({ rooms })))
    // Already JSON: thousands of users are not encoded again for every caller.
    .handle("liveRooms", () => Effect.map(listings.liveJson, (json) => HttpServerResponse.text(json, { contentType: "application/json" })))
    .handle("liveRoom", liveRoom)
    .handle("liveRoomAlias", liveRoom)
    .handle("keepalive", ({ params, payload }) =>
      sessions.keepalive(toSessionInput(params.id, payload)).pipe(
        Effect.as(success),
        Effect.mapError((e) => new BadRequest({ error: e.message }))
      ))
    .handle("janusEvent", ({ payload }) => Effect.as(sessions.janusEvents(payload), success))
}))
