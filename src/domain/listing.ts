// What the room listings show, in gxydb-api's shapes: a room as /groups lists
// it, and a room in use with its users as /rooms and /room/:id list it. One
// definition for both sides: the API (src/http/api.ts) encodes with these
// schemas, and the listing (src/rooms/listings.ts) builds their types.
import { Schema } from "effect"
import { RoomIdView } from "./room.ts"
import { Count } from "./text.ts"

const roomFields = {
  room: RoomIdView,
  janus: Schema.String,
  description: Schema.String,
  num_users: Count,
  questions: Schema.Boolean,
  region: Schema.String,
  extra: Schema.Unknown
}

/** A room as /groups lists it (gxydb-api's V1Room without users). */
export const GroupEntry = Schema.Struct(roomFields)
export type GroupEntry = typeof GroupEntry.Type

/** A user in a listing: gxydb-api's 21 fields with what the client last sent, plus ours (mic, screen, country, joined). */
export const LiveUser = Schema.Struct({
  id: Schema.String,
  display: Schema.String,
  email: Schema.String,
  group: Schema.String,
  ip: Schema.String,
  janus: Schema.String,
  name: Schema.String,
  role: Schema.String,
  system: Schema.String,
  username: Schema.String,
  room: RoomIdView,
  /** As the client sent it; its last keepalive (epoch ms) when it sent none. */
  timestamp: Schema.Finite,
  session: Schema.Finite,
  handle: Schema.Finite,
  rfid: Schema.String,
  textroom_handle: Schema.Finite,
  camera: Schema.Boolean,
  question: Schema.Boolean,
  self_test: Schema.Boolean,
  sound_test: Schema.Boolean,
  extra: Schema.Unknown,
  mic: Schema.Boolean,
  screen: Schema.Boolean,
  country: Schema.String,
  /** When the session started, epoch milliseconds. */
  joined: Schema.Finite
})
export type LiveUser = typeof LiveUser.Type

/** A room in use, with its users. */
export const LiveRoom = Schema.Struct({ ...roomFields, users: Schema.Array(LiveUser) })
export type LiveRoom = typeof LiveRoom.Type
