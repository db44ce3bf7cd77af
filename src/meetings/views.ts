// What clients of seed-003 rooms see, over HTTP (/api/rooms/…) and the
// real-time channel alike: a room with its join code, and its users as
// seed 003's room_user rows (each one a session, with its media state).
import { Schema } from "effect"
import type { CatalogRow } from "../db/catalogStore.ts"
import type { LiveSessionRow } from "../db/sessionStore.ts"

export const RoomView = Schema.Struct({
  /** The room id, always a string (a generated id, or a room's own id). */
  id: Schema.String,
  name: Schema.String,
  joinCode: Schema.String,
  requireAccessBeforeJoining: Schema.Boolean,
  createdAt: Schema.String,
  updatedAt: Schema.String
}).annotate({ description: "A room (seed 003): its id, name and 6-character join code" })
export type RoomView = typeof RoomView.Type

export const MemberView = Schema.Struct({
  /** The session's id: one per connection, so a user in two tabs is two members. */
  id: Schema.String,
  userId: Schema.String,
  roomId: Schema.String,
  display: Schema.String,
  /** The gateway the session is on. */
  janus: Schema.String,
  isMicActive: Schema.Boolean,
  isCamActive: Schema.Boolean,
  isShareScreen: Schema.Boolean,
  createdAt: Schema.String,
  /** Its last change or keepalive. */
  updatedAt: Schema.String
}).annotate({ description: "A user in a room: one live session and its media state" })
export type MemberView = typeof MemberView.Type

export const RoomWithUsers = Schema.Struct({ ...RoomView.fields, users: Schema.Array(MemberView) })
export type RoomWithUsers = typeof RoomWithUsers.Type

export const roomView = (r: CatalogRow): RoomView => ({
  id: r.room,
  name: r.name,
  joinCode: r.joinCode,
  requireAccessBeforeJoining: r.requireAccessBeforeJoining,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString()
})

export const memberView = (s: LiveSessionRow): MemberView => ({
  id: String(s.sessionId),
  userId: s.userId,
  roomId: s.room,
  display: s.display ?? s.userId,
  janus: s.gateway ?? "",
  isMicActive: s.mic,
  isCamActive: s.camera,
  isShareScreen: s.screen,
  createdAt: s.joinedAt.toISOString(),
  updatedAt: s.keepaliveAt.toISOString()
})
