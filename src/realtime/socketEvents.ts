// What real-time clients send: one Schema per event, decoded strictly (a
// misspelt field is an error, not silently ignored), and the one-line
// message naming the field that a refused payload is acknowledged with.
import { Effect, Result, Schema } from "effect"
import { CountryCode, RoomId } from "../domain/room.ts"
import { StoredName } from "../domain/text.ts"
import { describeIssue } from "../domain/issues.ts"

/** The longest token accepted (an OIDC access token is a few KiB). */
export const maxTokenLength = 16 * 1024

export const Token = Schema.String.check(
  Schema.makeFilter((s: string) => (s.length > 0 && s.length <= maxTokenLength) || `must be a token of 1 to ${maxTokenLength} characters`)
)

export const UserIdText = StoredName(200)

export const CreateRoomMessage = Schema.Struct({ roomId: RoomId })

export const JoinRoomMessage = Schema.Struct({
  roomId: RoomId,
  /** Optional when the handshake carried `auth.token`. */
  token: Schema.optional(Token),
  userId: Schema.optional(UserIdText),
  display: Schema.optional(StoredName(200)),
  /** The caller's country, for the balancer's regional pools (scale mode). */
  country: Schema.optional(Schema.Union([CountryCode, Schema.Literal("")]))
})
export type JoinRoomMessage = typeof JoinRoomMessage.Type

export const UpdateUserMessage = Schema.Struct({
  isMicActive: Schema.optional(Schema.Boolean),
  isCamActive: Schema.optional(Schema.Boolean),
  isShareScreen: Schema.optional(Schema.Boolean)
}).check(Schema.makeFilter((m) =>
  m.isMicActive !== undefined || m.isCamActive !== undefined || m.isShareScreen !== undefined ||
  "give at least one of isMicActive, isCamActive, isShareScreen"
))
export type UpdateUserMessage = typeof UpdateUserMessage.Type

export const GetUsersMessage = Schema.Struct({ roomId: RoomId })

/** `leaveRoom` takes no payload, or `{roomId}` naming the room the socket is in. */
export const LeaveRoomMessage = Schema.UndefinedOr(Schema.Struct({ roomId: Schema.optional(RoomId) }))

/** A payload the channel refuses, or a request it cannot carry out: acknowledged `{error: message}`. */
export class ChannelRefusal extends Schema.TaggedError<ChannelRefusal>()("ChannelRefusal", {
  message: Schema.String
}) {}

/** Decodes `payload` of `event`; a refusal names the event and the field. */
export const decodeMessage = <S extends Schema.Top & { readonly DecodingServices: never }>(event: string, schema: S) => {
  const decode = Schema.decodeUnknownResult(schema, { onExcessProperty: "error" })
  return (payload: unknown): Effect.Effect<S["Type"], ChannelRefusal> => {
    const decoded = decode(payload)
    if (Result.isSuccess(decoded)) return Effect.succeed(decoded.success)
    const issue = describeIssue(decoded.failure.message)
    return Effect.fail(new ChannelRefusal({ message: `invalid ${event} payload: ${issue}` }))
  }
}
