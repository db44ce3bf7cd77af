// Which gateway serves a room (POST /v2/room_server): the room's default
// gateway in legacy mode (an in-memory lookup, no writes), its Room entity's
// answer in scale mode.
import { Context, Effect, Layer } from "effect"
import { AppConfig } from "../config.ts"
import { LegacyGatewayMissing, type NoGatewayAvailable, RoomNotFound } from "../domain/errors.ts"
import type { RoomId } from "../domain/room.ts"
import { RoomCatalog } from "./catalog.ts"
import { countStickyAnswer } from "../metrics/events.ts"
import { RoomReadView } from "./readView.ts"
import { type RoomFailure, Rooms } from "./roomClient.ts"

export type RoomGatewayError = RoomFailure | NoGatewayAvailable | LegacyGatewayMissing

export class RoomGateway extends Context.Service<RoomGateway, {
  readonly gatewayFor: (room: RoomId, country: string | undefined) => Effect.Effect<string, RoomGatewayError>
}>()("room-orchestrator/RoomGateway") {
  static readonly layer = Layer.effect(RoomGateway, Effect.gen(function*() {
    const config = yield* AppConfig
    const catalog = yield* RoomCatalog
    const rooms = yield* Rooms
    const view = yield* RoomReadView

    const known = (room: RoomId) =>
      Effect.flatMap(catalog.find(room), (row) =>
        row === undefined || row.disabled ? Effect.fail(new RoomNotFound({ room })) : Effect.succeed(row))

    const legacy = (room: RoomId) =>
      Effect.flatMap(known(room), (row) => {
        if (row.defaultGateway !== null && row.defaultGatewayEnabled === true) return Effect.succeed(row.defaultGateway)
        return Effect.logError("Gateway not found for room in legacy mode (SCALE=false)").pipe(
          // Stable types: the id is a number when there is one, the name a string ("" when none).
          Effect.annotateLogs({
            room_id: room,
            default_gateway: row.defaultGateway ?? "",
            ...(row.defaultGatewayId === null ? {} : { default_gateway_id: row.defaultGatewayId })
          }),
          Effect.andThen(Effect.fail(new LegacyGatewayMissing({ room, defaultGatewayId: row.defaultGatewayId })))
        )
      })

    // A room the read view holds `assigned` with users is answered from it
    // (readView.ts says why that answer is the machine's); any other goes to
    // the room, whose answer refreshes the view.
    const scale = (room: RoomId, country: string | undefined) =>
      Effect.andThen(known(room), Effect.suspend(() => {
        const sticky = view.sticky(room)
        if (sticky !== undefined) return Effect.as(countStickyAnswer("view"), sticky)
        const ticket = view.ticket(room)
        return rooms.requestServer(room, country).pipe(
          Effect.tap((answer) => Effect.sync(() => view.confirm(room, answer.gateway, answer.sessions, ticket))),
          Effect.tap(countStickyAnswer("room")),
          Effect.map((answer) => answer.gateway)
        )
      }))

    return {
      gatewayFor: (room, country) => (config.scale ? scale(room, country) : legacy(room))
    }
  }))
}
