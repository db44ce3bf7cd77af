// Handlers of the client endpoints: decode → one service → encode.
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import type { RoomId } from "../domain/room.ts"
import { RoomListings } from "../rooms/listings.ts"
import { RoomGateway } from "../rooms/roomGateway.ts"
import { toSessionInput } from "../sessions/messages.ts"
import { Sessions } from "../sessions/sessions.ts"
import { Api } from "./api.ts"
import { conditionalJson, conditionalResponse, type ConditionalJson } from "./compression.ts"
import { NotFound } from "./errors.ts"
import { asHttpError } from "./failures.ts"

export const ClientsHandlers = HttpApiBuilder.group(Api, "clients", Effect.fn(function*(handlers) {
  const roomGateway = yield* RoomGateway
  const listings = yield* RoomListings
  const encodedListings = new WeakMap<object, ConditionalJson>()
  const sessions = yield* Sessions
  const success = { result: "success" as const }

  // A room of the catalog, with whoever is in it (gxydb-api answers an empty room too).
  const liveRoom = ({ params }: { params: { room: RoomId } }) =>
    asHttpError(listings.room(params.room)).pipe(
      Effect.flatMap((room) => room === undefined ? Effect.fail(new NotFound({ error: `room ${params.room} not found` })) : Effect.succeed(room))
    )

  return handlers
    .handle("roomServer", ({ payload }) =>
      roomGateway.gatewayFor(payload.room, payload.geo?.country_code || undefined).pipe(
        Effect.map((janus) => ({ janus })),
        asHttpError
      ))
    .handle("groups", ({ query }) =>
      asHttpError(Effect.map(listings.groups(query.with_num_users === "true"), (rooms) => ({ rooms }))))
    // Already JSON: thousands of users are not encoded again for every caller;
    // a poller that has this listing gets a 304.
    .handle("liveRooms", () =>
      asHttpError(listings.liveJson).pipe(Effect.flatMap((listing) => {
        let body = encodedListings.get(listing)
        if (body === undefined) encodedListings.set(listing, body = conditionalJson(listing.json))
        return conditionalResponse(body)
      })))
    .handle("liveRoom", liveRoom)
    .handle("liveRoomAlias", liveRoom)
    // The user is the body's `id` when it has one (gxydb-api reads only that), else the path's.
    .handle("keepalive", ({ params, payload }) =>
      asHttpError(Effect.as(sessions.keepalive(toSessionInput(payload.id || params.id, payload)), success)))
    .handle("janusEvent", ({ payload }) => asHttpError(Effect.as(sessions.janusEvents(payload), success)))
}))
