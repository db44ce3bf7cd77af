// Which gateway serves a room (POST /v2/room_server): the room's default
// gateway in legacy mode (an in-memory lookup, no writes), its Room entity's
// answer in scale mode.
import { Context, Effect, Layer } from "effect"
import { Config } from "../config.ts"
import { LegacyGatewayMissing, type NoGatewayAvailable, RoomNotFound } from "../domain/errors.ts"
import type { RoomId } from "../domain/room.ts"
import { RoomCatalog } from "./catalog.ts"
import { type RoomFailure, Rooms } from "./rooms.ts"

export type RoomGatewayError = RoomFailure | NoGatewayAvailable | LegacyGatewayMissing

export class RoomGateway extends Context.Service<RoomGateway, {
  readonly gatewayFor: (room: RoomId, country: string | undefined) => Effect.Effect<string, RoomGatewayError>
}>()("room-orchestrator/RoomGateway") {
  static readonly layer = Layer.effect(RoomGateway, Effect.gen(function*() {
    const config = yield* Config
    const catalog = yield* RoomCatalog
    const rooms = yield* Rooms

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

    const scale = (room: RoomId, country: string | undefined) =>
      Effect.andThen(known(room), rooms.requestServer(room, country))

    return {
      gatewayFor: (room, country) => (config.scale ? scale(room, country) : legacy(room))
    }
  }))
}
