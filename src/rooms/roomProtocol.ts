// The Room entity's messages: one entity per room id, whose messages are
// handled one at a time in the whole deployment.
import { Schema } from "effect"
import { Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"
import { roomStates } from "../../machines/room.machine.ts"
import { DatabaseUnavailable, NoGatewayAvailable, RoomNotFound, RoomUnavailable } from "../domain/errors.ts"

/** What a room reports about itself. */
export const RoomStatus = Schema.Struct({
  room: Schema.String,
  state: Schema.Literals(roomStates),
  gateway: Schema.NullOr(Schema.String),
  region: Schema.NullOr(Schema.String),
  sessions: Schema.Number,
  /** When its pending timer fires (epoch ms), if one is pending. */
  deadline: Schema.NullOr(Schema.Number),
  /** How many history rows it has appended. */
  seq: Schema.Number
})
export type RoomStatus = typeof RoomStatus.Type

const failures = Schema.Union([RoomNotFound, DatabaseUnavailable, RoomUnavailable])

export const RequestServer = Rpc.make("RequestServer", {
  payload: { country: Schema.optional(Schema.String) },
  /** The gateway of the room, now `assigned`, and how many sessions it counts. */
  success: Schema.Struct({ gateway: Schema.String, sessions: Schema.Number }),
  error: Schema.Union([RoomNotFound, NoGatewayAvailable, DatabaseUnavailable, RoomUnavailable])
})

export const SessionChange = Schema.Literals(["joined", "updated", "left"])
export type SessionChange = typeof SessionChange.Type

export const ChangeSession = Rpc.make("ChangeSession", {
  payload: { change: SessionChange, session: Schema.String, gateway: Schema.String },
  success: RoomStatus,
  error: failures
})

/** The room reads its live sessions from the sessions table and counts those (a lost join or leave is repaired). */
export const SyncSessions = Rpc.make("SyncSessions", { success: RoomStatus, error: failures })

export const GatewayDown = Rpc.make("GatewayDown", {
  payload: { gateway: Schema.String },
  success: RoomStatus,
  error: failures
})

/** An operator frees the room's assignment; the room answers what it did (only an empty room lets it go). */
export const ReleaseAssignment = Rpc.make("ReleaseAssignment", { success: RoomStatus, error: failures })

/** An operator moves the room off its gateway: to `gateway`, or where the balancer chooses; the room answers what it did. */
export const Reassign = Rpc.make("Reassign", {
  payload: { gateway: Schema.optional(Schema.String) },
  success: RoomStatus,
  error: failures
})

/** Forgets what the room holds in memory and loads it again from storage (after its rows were edited by hand). */
export const Reload = Rpc.make("Reload", { success: RoomStatus, error: failures })

/** Fires the room's due timers (sent, without waiting, by its own timer and by the deadline sweep). */
export const Wake = Rpc.make("Wake")

export const GetStatus = Rpc.make("GetStatus", { success: RoomStatus, error: failures })

export const Room = Entity.make("Room", [
  RequestServer, ChangeSession, SyncSessions, GatewayDown, ReleaseAssignment, Reassign, Reload, Wake, GetStatus
])
