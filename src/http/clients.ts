// Handlers of the client endpoints: decode → one service → encode.
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { requestCountry, type RoomId } from "../domain/room.ts"
import { countFieldNotes } from "../metrics/events.ts"
import { auditChange } from "../auth/audit.ts"
import { CurrentPrincipal } from "../auth/principal.ts"
import { RoomCatalog } from "../rooms/catalog.ts"
import { RoomListings } from "../rooms/listings.ts"
import { RoomGateway } from "../rooms/roomGateway.ts"
import { Sessions } from "../sessions/sessions.ts"
import type { UserSessionBody } from "../sessions/wireSchemas.ts"
import { type RoomServerRequest, ServedApi } from "./api.ts"
import { conditionalJson, conditionalResponse, type ConditionalJson } from "./compression.ts"
import { NotFound } from "../domain/wireErrors.ts"
import { asHttpError } from "./httpErrors.ts"

const success = { result: "success" as const }

/**
 * The answers of the three endpoints of a lesson start, served by the lean
 * routes (src/http/leanRoutes.ts); GET /rooms/:room answers as /room/:room.
 */
export const clientAnswers = Effect.gen(function*() {
  const roomGateway = yield* RoomGateway
  const listings = yield* RoomListings
  const sessions = yield* Sessions
  return {
    roomServer: ({ payload }: { readonly payload: typeof RoomServerRequest.Type }) => {
      const { country, notes } = requestCountry(payload.geo)
      return countFieldNotes(notes).pipe(
        Effect.andThen(roomGateway.gatewayFor(payload.room, country)),
        Effect.map((janus) => ({ janus })),
        asHttpError
      )
    },
    // The user is the body's `id` when it has one (gxydb-api reads only that), else the path's.
    keepalive: ({ params, payload }: { readonly params: { readonly id: string }; readonly payload: UserSessionBody }) =>
      asHttpError(Effect.as(sessions.keepalive(payload.id || params.id, payload), success)),
    // A room of the catalog, with whoever is in it (gxydb-api answers an empty room too).
    liveRoom: ({ params }: { readonly params: { readonly room: RoomId } }) =>
      asHttpError(listings.room(params.room)).pipe(
        Effect.flatMap((room) => room === undefined ? Effect.fail(new NotFound({ error: `room ${params.room} not found` })) : Effect.succeed(room))
      )
  }
})

export const ClientsHandlers = HttpApiBuilder.group(ServedApi, "clients", Effect.fn(function*(handlers) {
  const answers = yield* clientAnswers
  const listings = yield* RoomListings
  const encodedListings = new WeakMap<object, ConditionalJson>()
  const sessions = yield* Sessions
  const catalog = yield* RoomCatalog

  return handlers
    .handle("groups", ({ query }) =>
      asHttpError(Effect.map(listings.groups(query.with_num_users === "true", query.kind ?? "configured"), (rooms) => ({ rooms }))))
    // Already JSON: thousands of users are not encoded again for every caller;
    // a poller that has this listing gets a 304.
    .handle("liveRooms", ({ query }) =>
      asHttpError(listings.liveJson(query.kind ?? "configured")).pipe(Effect.flatMap((listing) => {
        let body = encodedListings.get(listing)
        if (body === undefined) encodedListings.set(listing, body = conditionalJson(listing.json))
        return conditionalResponse(body)
      })))
    .handle("liveRoomAlias", answers.liveRoom)
    .handle("janusEvent", ({ payload }) =>
      Effect.flatMap(CurrentPrincipal, (principal) =>
        asHttpError(Effect.as(sessions.janusEvents(payload, principal.kind === "gateway" ? principal.gateway : undefined), success))))
    // gxydb-api writes only `extra` of the room it is sent; so does this.
    .handle("roomExtra", ({ params, payload }) =>
      Effect.gen(function*() {
        const extra = payload.extra ?? null
        const written = yield* asHttpError(catalog.update(params.room, { extra }))
        if (typeof written === "string") return yield* new NotFound({ error: `room ${params.room} not found` })
        yield* auditChange("room.extra", { room: params.room }, { extra })
        yield* listings.membershipChanged
        return success
      }))
}))
