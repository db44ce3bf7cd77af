// Which gateway serves a room: the room's default gateway in legacy mode
// (an in-memory lookup, no writes), its Room entity's answer in scale mode.
import { Context, Effect, Layer, Schema } from "effect"
import { Config } from "../config.ts"
import { RoomCatalog } from "./catalog.ts"
import { type NoGatewayAvailable, RoomNotFound } from "./entity.ts"
import { type RoomUnavailable, Rooms } from "./rooms.ts"

/** Legacy mode and the room's default gateway is missing or disabled: the room must be fixed. */
export class LegacyGatewayMissing extends Schema.TaggedError<LegacyGatewayMissing>()("LegacyGatewayMissing", {
  room: Schema.Number,
  defaultGatewayId: Schema.NullOr(Schema.Number)
}) {
  override get message() {
    return `gateway not found for room ${this.room} in legacy mode (SCALE=false): fix the room's default gateway`
  }
}

export type RoomServerError = RoomNotFound | NoGatewayAvailable | RoomUnavailable | LegacyGatewayMissing

export class RoomServer extends Context.Service<RoomServer, {
  readonly serverFor: (room: number, country: string | undefined) => Effect.Effect<string, RoomServerError>
}>()("room-orchestrator/RoomServer") {
  static readonly layer = Layer.effect(RoomServer, Effect.gen(function*() {
    const config = yield* Config
    const catalog = yield* RoomCatalog
    const rooms = yield* Rooms

    const known = (room: number) =>
      Effect.flatMap(catalog.find(room), (row) =>
        row === undefined || row.disabled ? Effect.fail(new RoomNotFound({ room })) : Effect.succeed(row))

    const legacy = (room: number) =>
      Effect.flatMap(known(room), (row) => {
        if (row.defaultGateway !== null && row.defaultGatewayEnabled === true) return Effect.succeed(row.defaultGateway)
        return Effect.logError("Gateway not found for room in legacy mode (SCALE=false)").pipe(
          Effect.annotateLogs({ room_id: room, default_gateway_id: row.defaultGatewayId ?? "none" }),
          Effect.andThen(Effect.fail(new LegacyGatewayMissing({ room, defaultGatewayId: row.defaultGatewayId })))
        )
      })

    const scale = (room: number, country: string | undefined) =>
      Effect.andThen(known(room), rooms.requestServer(room, country))

    return {
      serverFor: (room, country) => (config.scale ? scale(room, country) : legacy(room))
    }
  }))
}
