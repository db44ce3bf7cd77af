// What clients, Janus and gateways send about sessions, as Schemas shared by
// HTTP (PUT /users/:id, POST /event) and MQTT (gxydb/users/#,
// gxydb/events/#, janus/+/status). Unknown fields are ignored: these
// producers send more than we read.
import { Effect, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { CountryCode, GatewayName, RoomNumber } from "../domain/room.ts"
import type { SessionInput } from "../db/sessionStore.ts"

const JanusId = Schema.Union([Schema.Number, Schema.String]).annotate({ message: "must be a non-negative integer id" }).pipe(
  Schema.decodeTo(
    Schema.Int,
    SchemaTransformation.transformEffect<number, number | string>({
      decode: (value) => {
        const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value
        return typeof n === "number" && Number.isSafeInteger(n) && n >= 0
          ? Effect.succeed(n)
          : Effect.fail(new SchemaIssue.InvalidValue({ message: "must be a non-negative integer id" }))
      },
      encode: (n) => Effect.succeed(n)
    })
  )
)

const Text = Schema.String.check(Schema.isMaxLength(1000))
const optional = Schema.optional
const flag = optional(Schema.Boolean)

/** A user's session keepalive (gxydb-api's user body). */
export const UserSessionBody = Schema.Struct({
  id: optional(Text),
  room: RoomNumber,
  janus: GatewayName,
  session: optional(JanusId),
  handle: optional(JanusId),
  rfid: optional(JanusId),
  textroom_handle: optional(JanusId),
  display: optional(Text),
  email: optional(Text),
  username: optional(Text),
  name: optional(Text),
  group: optional(Text),
  role: optional(Text),
  system: optional(Text),
  ip: optional(Text),
  user_agent: optional(Text),
  country: optional(Schema.Union([CountryCode, Schema.Literal("")])),
  camera: flag,
  mic: flag,
  screen: flag,
  question: flag,
  self_test: flag,
  sound_test: flag,
  timestamp: optional(Schema.Number),
  extra: optional(Schema.NullOr(Schema.Record(Schema.String, Schema.Unknown)))
})
export type UserSessionBody = typeof UserSessionBody.Type

export const UserId = Schema.String.check(
  Schema.makeFilter((s: string) => (s.length > 0 && s.length <= 200) || "must be a user id of 1 to 200 characters")
)

export const toSessionInput = (userId: string, b: UserSessionBody): SessionInput => ({
  userId,
  room: b.room,
  gateway: b.janus,
  gatewaySession: b.session ?? 0,
  gatewayHandle: b.handle ?? null,
  gatewayFeed: b.rfid ?? null,
  gatewayTextroomHandle: b.textroom_handle ?? null,
  display: b.display ?? null,
  email: b.email ?? null,
  username: b.username ?? null,
  camera: b.camera ?? false,
  mic: b.mic ?? false,
  screen: b.screen ?? false,
  question: b.question ?? false,
  selfTest: b.self_test ?? false,
  soundTest: b.sound_test ?? false,
  country: b.country === undefined || b.country === "" ? null : b.country,
  userAgent: b.user_agent ?? null,
  ip: b.ip ?? null,
  extra: b.extra ?? null
})

/** One Janus event-handler event; only the fields we read are checked. */
export const JanusEvent = Schema.Struct({
  type: Schema.Number,
  emitter: optional(Schema.String),
  event: optional(Schema.Struct({
    plugin: optional(Schema.String),
    data: optional(Schema.Struct({
      event: optional(Schema.String),
      id: optional(JanusId)
    }))
  }))
})
export type JanusEvent = typeof JanusEvent.Type

/** Janus posts one event or a batch. */
export const JanusEvents = Schema.Union([JanusEvent, Schema.Array(JanusEvent)])

const pluginEventType = 64
const closingEvents = new Set(["leaving", "kicked", "unpublished"])

/** The feed a videoroom event closes, if it closes one. */
export const closedFeed = (e: JanusEvent): { readonly feed: number; readonly gateway: string | undefined } | undefined => {
  const data = e.event?.data
  if (e.type !== pluginEventType || e.event?.plugin !== "janus.plugin.videoroom") return undefined
  if (data?.event === undefined || !closingEvents.has(data.event) || data.id === undefined) return undefined
  return { feed: data.id, gateway: e.emitter }
}

/** A gateway's retained status message on janus/<name>/status. */
export const GatewayStatusMessage = Schema.Struct({ online: Schema.Boolean })
