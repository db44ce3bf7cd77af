// What clients, Janus and gateways send about sessions, as Schemas shared by
// HTTP (PUT /users/:id, POST /event) and MQTT (gxydb/users/#,
// gxydb/events/#, janus/+/status). Unknown fields are ignored: these
// producers send more than we read.
import { Effect, Result, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { CountryCode, FeedId, GatewayName, OpenStruct, RoomId, wireExamples } from "../domain/room.ts"
import { StoredJsonObject, StoredText } from "../domain/text.ts"
import type { SessionInput } from "../db/sessionStore.ts"

/** A Janus session or handle id: a non-negative integer (a numeric string is accepted too). */
const janusIdMessage = { message: "must be a non-negative integer id" }
const JanusId = Schema.Union([
  Schema.Number.check(Schema.isInt(janusIdMessage), Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, janusIdMessage)),
  Schema.String.check(Schema.isPattern(/^\d{1,16}$/u, janusIdMessage))
]).annotate({ message: "must be a non-negative integer id" }).pipe(
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

const Text = StoredText(1000)
// gxydb-api's clients may send null for a field they have no value for.
const optional = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))
const flag = optional(Schema.Boolean)

export const UserId = StoredText(200).check(
  Schema.makeFilter((s: string) => s.length > 0 || "must be a user id of 1 to 200 characters", { toJsonSchema: () => ({ minLength: 1 }) })
).annotate({ examples: ["7c9e6679-7425-40de-944b-e07fc1f90ae7"] })

/** A user's session keepalive: gxydb-api's user body. Unknown fields are ignored (clients send their whole user object). */
export const UserSessionBody = OpenStruct({
  id: optional(Schema.Union([UserId, Schema.Literal("")])),
  room: RoomId,
  janus: GatewayName,
  session: optional(JanusId),
  handle: optional(JanusId),
  rfid: optional(FeedId),
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
  timestamp: optional(Schema.Int.annotate({ description: "The client's clock, epoch milliseconds; listed back as sent" })),
  extra: optional(StoredJsonObject)
}).annotate({ description: "gxydb-api's user object; fields not listed are accepted and ignored" }).pipe(wireExamples([{
  id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  room: "2171",
  janus: "gxy5",
  display: "Alice",
  email: "a@example.org",
  session: 2964711542310155,
  handle: 7138924455716822,
  rfid: "7c9e6679-7425-40de-944b-e07fc1f90ae7-Xy3",
  textroom_handle: 991,
  camera: true,
  mic: true,
  screen: false,
  question: false,
  self_test: false,
  sound_test: false,
  country: "IL",
  group: "Room 1",
  ip: "85.64.1.2",
  system: "Mozilla/5.0",
  username: "alice",
  role: "user",
  name: "",
  extra: { streams: [] },
  timestamp: 1715412345123
}]))
export type UserSessionBody = typeof UserSessionBody.Type

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
  groupName: b.group ?? null,
  role: b.role ?? null,
  clientName: b.name ?? null,
  camera: b.camera ?? false,
  mic: b.mic ?? false,
  screen: b.screen ?? false,
  question: b.question ?? false,
  selfTest: b.self_test ?? false,
  soundTest: b.sound_test ?? false,
  country: b.country === undefined || b.country === null || b.country === "" ? null : b.country,
  userAgent: b.system ?? b.user_agent ?? null,
  ip: b.ip ?? null,
  extra: b.extra ?? null,
  clientTimestamp: b.timestamp ?? null
})

/** One Janus event-handler event. Only the envelope is checked here: Janus sends many kinds of events. */
export const JanusEvent = OpenStruct({
  type: Schema.Finite.annotate({ description: "Janus event type: 64 for plugin events" }),
  emitter: optional(StoredText(200)),
  event: optional(OpenStruct({
    plugin: optional(Schema.Unknown),
    data: optional(OpenStruct({
      event: optional(Schema.Unknown),
      videoroom: optional(Schema.Unknown),
      id: optional(Schema.Unknown)
    }))
  }))
}).annotate({ description: "A Janus event-handler event; videoroom leaving/kicked/unpublished close the feed's sessions" })
export type JanusEvent = typeof JanusEvent.Type

/** Janus posts one event or a batch. */
export const JanusEvents = Schema.Union([JanusEvent, Schema.Array(JanusEvent)]).pipe(wireExamples([
  { emitter: "gxy5", type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", room: 2171, id: "7c9e6679-7425-40de-944b-e07fc1f90ae7-Xy3" } } },
  [{ emitter: "gxy5", type: 1, event: { name: "created" } }]
]))

const pluginEventType = 64
const closingEvents = new Set(["leaving", "kicked", "unpublished"])
const decodeFeed = Schema.decodeUnknownResult(FeedId)

/** A feed to close: its id and the `emitter` the event named (which may be a gateway or a Janus server name). */
export interface ClosedFeed {
  readonly feed: string
  readonly emitter: string | undefined
}

/**
 * The feed a videoroom event closes: undefined when it closes none, a
 * message when it should close one but its `event.data.id` is not a feed id.
 */
export const closedFeed = (e: JanusEvent): ClosedFeed | undefined | { readonly invalid: string } => {
  const data = e.event?.data
  if (e.type !== pluginEventType || e.event?.plugin !== "janus.plugin.videoroom" || data === undefined || data === null) return undefined
  const name = typeof data.event === "string" ? data.event : typeof data.videoroom === "string" ? data.videoroom : undefined
  if (name === undefined || !closingEvents.has(name) || data.id === undefined || data.id === null || data.id === "") return undefined
  const feed = decodeFeed(data.id)
  if (Result.isFailure(feed)) return { invalid: `event.data.id: ${feed.failure.message}` }
  return { feed: feed.success, emitter: e.emitter ?? undefined }
}

/** A gateway's retained status message on janus/<name>/status. */
export const GatewayStatusMessage = Schema.Struct({ online: Schema.Boolean })
