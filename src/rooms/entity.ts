// The Room entity's protocol: one entity per room number, whose messages are
// handled one at a time in the whole deployment.
import { Schema } from "effect"
import { Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"
import { roomStates } from "../../machines/room.machine.ts"

export class RoomNotFound extends Schema.TaggedError<RoomNotFound>()("RoomNotFound", {
  room: Schema.Number
}) {
  override get message() {
    return `room ${this.room} not found`
  }
}

export class NoGatewayAvailable extends Schema.TaggedError<NoGatewayAvailable>()("NoGatewayAvailable", {
  room: Schema.Number,
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/** What a room reports about itself. */
export const RoomStatus = Schema.Struct({
  room: Schema.Number,
  state: Schema.Literals(roomStates),
  gateway: Schema.NullOr(Schema.String),
  region: Schema.NullOr(Schema.String),
  sessions: Schema.Number,
  /** When its pending timer fires (epoch ms), if one is pending. */
  deadline: Schema.NullOr(Schema.Number),
  /** How many transitions it has logged. */
  seq: Schema.Number
})
export type RoomStatus = typeof RoomStatus.Type

export const RequestServer = Rpc.make("RequestServer", {
  payload: { country: Schema.optional(Schema.String) },
  success: Schema.Struct({ gateway: Schema.String }),
  error: Schema.Union([RoomNotFound, NoGatewayAvailable])
})

export const SessionChange = Schema.Literals(["joined", "updated", "left"])
export type SessionChange = typeof SessionChange.Type

export const ChangeSession = Rpc.make("ChangeSession", {
  payload: { change: SessionChange, session: Schema.String, gateway: Schema.String },
  success: RoomStatus,
  error: RoomNotFound
})

export const GatewayDown = Rpc.make("GatewayDown", {
  payload: { gateway: Schema.String },
  success: RoomStatus,
  error: RoomNotFound
})

/** Fires the room's due timers (sent by its own timer and by the deadline sweep). */
export const Wake = Rpc.make("Wake", { success: RoomStatus, error: RoomNotFound })

export const GetStatus = Rpc.make("GetStatus", { success: RoomStatus, error: RoomNotFound })

export const Room = Entity.make("Room", [RequestServer, ChangeSession, GatewayDown, Wake, GetStatus])
