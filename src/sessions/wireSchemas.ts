// What clients, Janus and gateways send about sessions, as Schemas shared by
// HTTP (PUT /users/:id, POST /event) and MQTT (gxydb/users/#,
// gxydb/events/#, janus/+/status). Unknown fields are ignored: these
// producers send more than we read.
import { Effect, Result, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { type FieldNotes, keepFields, keptFlag, keptInteger, keptJsonObject, keptText } from "../domain/kept.ts"
import { FeedId, GatewayName, OpenStruct, RoomId, wireExamples } from "../domain/room.ts"
import { StoredText } from "../domain/text.ts"
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

// gxydb-api's clients may send null for a field they have no value for.
const optional = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

export const UserId = StoredText(200).check(
  Schema.makeFilter((s: string) => s.length > 0 || "must be a user id of 1 to 200 characters", { toJsonSchema: () => ({ minLength: 1 }) })
).annotate({ examples: ["7c9e6679-7425-40de-944b-e07fc1f90ae7"] })

/** The largest `extra` object a session keeps, as JSON text. */
export const maxSessionExtraBytes = 4096

/**
 * What a keepalive carries beside what identifies its session: each kept
 * when storable, otherwise normalised or dropped, never a reason to refuse
 * the keepalive. Text is cut at these sizes.
 */
export const sessionDetailFields = {
  display: keptText(512),
  email: keptText(320),
  username: keptText(200),
  name: keptText(200),
  group: keptText(200),
  role: keptText(100),
  system: keptText(1000, "the user agent"),
  user_agent: keptText(1000, "the user agent (when system is absent)"),
  ip: keptText(64, "an IP address, stored as sent"),
  country: keptText(64, "the country as the client names it (the Galaxy client sends its name, e.g. Israel)"),
  handle: keptInteger(0, "the Janus handle id"),
  textroom_handle: keptInteger(0, "the Janus textroom handle id"),
  camera: keptFlag,
  mic: keptFlag,
  screen: keptFlag,
  question: keptFlag,
  self_test: keptFlag,
  sound_test: keptFlag,
  timestamp: keptInteger(Number.MIN_SAFE_INTEGER, "the client's clock, epoch milliseconds; listed back as sent"),
  extra: keptJsonObject(maxSessionExtraBytes)
}

/** The optional fields of keepalives and Janus events, as the field counter names them. */
export const sessionFieldNames: ReadonlyArray<string> = [...Object.keys(sessionDetailFields), "emitter"]

const detailSchemas = Object.fromEntries(Object.entries(sessionDetailFields).map(([name, kind]) => [name, kind.schema])) as {
  readonly [K in keyof typeof sessionDetailFields]: (typeof sessionDetailFields)[K]["schema"]
}

/**
 * A user's session keepalive: gxydb-api's user body. Only what identifies
 * the session is checked (user, room, gateway, gateway session, feed id);
 * every other field is kept, normalised or dropped, and unknown fields are
 * ignored (clients send their whole user object).
 */
export const UserSessionBody = OpenStruct({
  id: optional(Schema.Union([UserId, Schema.Literal("")])),
  room: RoomId,
  janus: GatewayName,
  session: optional(JanusId),
  rfid: optional(FeedId),
  ...detailSchemas
}).annotate({
  description: "gxydb-api's user object: room, janus, rfid (and session, id) identify the session and are checked; other fields are kept when storable, else cut or dropped; fields not listed are ignored"
}).pipe(wireExamples([{
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
  country: "Israel",
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

/** A keepalive as the sessions store takes it, and what became of the fields that could not be kept as sent. */
export const toSessionInput = (userId: string, b: UserSessionBody): { readonly input: SessionInput; readonly notes: FieldNotes } => {
  const { values: d, notes } = keepFields(sessionDetailFields, b)
  return {
    notes,
    input: {
      userId,
      room: b.room,
      gateway: b.janus,
      gatewaySession: b.session ?? 0,
      gatewayHandle: d.handle ?? null,
      gatewayFeed: b.rfid ?? null,
      gatewayTextroomHandle: d.textroom_handle ?? null,
      display: d.display ?? null,
      email: d.email ?? null,
      username: d.username ?? null,
      groupName: d.group ?? null,
      role: d.role ?? null,
      clientName: d.name ?? null,
      camera: d.camera ?? false,
      mic: d.mic ?? false,
      screen: d.screen ?? false,
      question: d.question ?? false,
      selfTest: d.self_test ?? false,
      soundTest: d.sound_test ?? false,
      country: d.country || null,
      userAgent: d.system ?? d.user_agent ?? null,
      ip: d.ip ?? null,
      extra: d.extra ?? null,
      clientTimestamp: d.timestamp ?? null
    }
  }
}

const eventEmitter = keptText(200, "the gateway (or Janus server name) that sent the event")

/**
 * One Janus event-handler event. Nothing in it is refused: an event that is
 * not a videoroom leaving/kicked/unpublished with a feed id closes nothing.
 */
export const JanusEvent = OpenStruct({
  type: Schema.optionalKey(Schema.Unknown.annotate({ description: "Janus event type: 64 for plugin events (other events are accepted and ignored)" })),
  emitter: eventEmitter.schema,
  event: Schema.optionalKey(Schema.Unknown.annotate({
    description: "For a plugin event: {plugin: \"janus.plugin.videoroom\", data: {event (or videoroom): \"leaving\" | \"kicked\" | \"unpublished\", id: the feed id}}"
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

const objectOrUndefined = (value: unknown): Readonly<Record<string, unknown>> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Readonly<Record<string, unknown>> : undefined

/** A feed to close: its id and the `emitter` the event named (which may be a gateway or a Janus server name). */
export interface ClosedFeed {
  readonly feed: string
  readonly emitter: string | undefined
  /** What became of the event's fields that could not be kept as sent. */
  readonly notes: FieldNotes
}

/**
 * The feed a videoroom event closes: undefined when it closes none, a
 * message when it should close one but its `event.data.id` (the feed id,
 * what identifies the sessions) is not a feed id.
 */
export const closedFeed = (e: JanusEvent): ClosedFeed | undefined | { readonly invalid: string } => {
  const event = objectOrUndefined(e.event)
  const data = objectOrUndefined(event?.data)
  if (e.type !== pluginEventType || event?.plugin !== "janus.plugin.videoroom" || data === undefined) return undefined
  const name = typeof data.event === "string" ? data.event : typeof data.videoroom === "string" ? data.videoroom : undefined
  if (name === undefined || !closingEvents.has(name) || data.id === undefined || data.id === null || data.id === "") return undefined
  const feed = decodeFeed(data.id)
  if (Result.isFailure(feed)) return { invalid: `event.data.id: ${feed.failure.message}` }
  const { values, notes } = keepFields({ emitter: eventEmitter }, e)
  return { feed: feed.success, emitter: values.emitter, notes }
}

/** A gateway's retained status message on janus/<name>/status. */
export const GatewayStatusMessage = Schema.Struct({ online: Schema.Boolean })
