// Room ids, feed ids and country codes as clients send them, and room ids as
// we write them back. A room id is a Janus videoroom id: a positive integer
// (the seeds' 2171) or a string id (Janus `string_ids`, seed 003's rooms).
import { Effect, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { type FieldNotes, keepFields, keptText } from "./kept.ts"
import { textProblem } from "./text.ts"

/** A room id in canonical form: the decimal digits of a numeric id, or the string id itself. */
export type RoomId = string

const numeric = /^\d+$/
const stringId = /^[A-Za-z0-9_.:-]{1,64}$/

export const roomIdMessage = "must be a positive integer or a string id of 1 to 64 characters [A-Za-z0-9_.:-]"

/**
 * The canonical id of what a client sent, or undefined when it is not a room
 * id. Digits are a number: `2171`, `"2171"` and `"02171"` are the same room,
 * and must be a positive integer JSON can carry exactly (≤ 2^53 − 1).
 */
export const canonicalRoomId = (value: unknown): RoomId | undefined => {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? String(value) : undefined
  if (typeof value !== "string") return undefined
  if (numeric.test(value)) {
    const n = Number(value)
    return Number.isSafeInteger(n) && n > 0 ? String(n) : undefined
  }
  return stringId.test(value) ? value : undefined
}

/** True for ids written as JSON numbers (unless ROOM_IDS_AS_STRINGS). */
export const isNumericRoomId = (id: RoomId): boolean => numeric.test(id)

/** A room id as gxydb-api's clients read it: a number for numeric ids, unless every id is written as a string. */
export const roomIdOut = (id: RoomId, asStrings: boolean): number | string =>
  !asStrings && isNumericRoomId(id) ? Number(id) : id

const toRoomId = SchemaTransformation.transformEffect<RoomId, number | string>({
  decode: (value) => {
    const id = canonicalRoomId(value)
    return id === undefined ? Effect.fail(new SchemaIssue.InvalidValue({ message: roomIdMessage })) : Effect.succeed(id)
  },
  encode: (id) => Effect.succeed(isNumericRoomId(id) ? Number(id) : id)
})

/** The largest numeric room id: the largest integer JSON carries exactly. */
const maxNumericId = Number.MAX_SAFE_INTEGER

// What the document says a room id looks like, checked before the id is
// made canonical (digits beyond 2^53 − 1 are refused there).
const idMessage = { message: roomIdMessage }
const numericRoomId = Schema.Number.check(Schema.isInt(idMessage), Schema.isBetween({ minimum: 1, maximum: maxNumericId }, idMessage))
// Not all zeros: a character other than 0 somewhere (no lookahead, so test generators can read it).
const stringRoomId = Schema.String.check(
  Schema.isMaxLength(64, idMessage),
  Schema.isPattern(/^[A-Za-z0-9_.:-]*[A-Za-z1-9_.:-][A-Za-z0-9_.:-]*$/u, idMessage)
)

/** A room id in a body: a JSON number or a string. */
export const RoomId = Schema.Union([numericRoomId, stringRoomId]).annotate({ message: roomIdMessage }).pipe(
  Schema.decodeTo(
    Schema.String.annotate({ description: "A room id: a positive integer (number or digits) or a Janus string id" }),
    toRoomId
  )
).annotate({ description: "A room id: a positive integer, or a string id of 1 to 64 characters [A-Za-z0-9_.:-]" })

/** A room id in a path. */
export const RoomIdParam = stringRoomId.annotate({ message: roomIdMessage, examples: ["2171"] }).pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transformEffect<RoomId, string>({
      decode: (text) => {
        const id = canonicalRoomId(text)
        return id === undefined ? Effect.fail(new SchemaIssue.InvalidValue({ message: roomIdMessage })) : Effect.succeed(id)
      },
      encode: Effect.succeed
    })
  )
).annotate({ description: "A room id: digits or a string id of 1 to 64 characters [A-Za-z0-9_.:-]" })

/**
 * A JSON object that may carry fields beyond `fields`: they are accepted and
 * ignored, and the OpenAPI document says so (gxydb-api's clients send more
 * than we read).
 */
export const OpenStruct = <const Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.StructWithRest(Schema.Struct(fields), [Schema.Record(Schema.String, Schema.Unknown)])

/** Examples of a body as sent on the wire (the schema's encoded form): shown in the API document, tried by the tests. */
export const wireExamples = <S extends Schema.Top>(examples: ReadonlyArray<S["Encoded"]>) => (schema: S): S["Rebuild"] =>
  schema.annotate({ examples } as never)

/** A room id as listings write it: a number for numeric ids (unless ROOM_IDS_AS_STRINGS), else a string. */
export const RoomIdView = Schema.Union([Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)), Schema.String]).annotate({
  description: "The room id: a JSON number for numeric ids unless ROOM_IDS_AS_STRINGS=true, else a string"
})

/** A Janus feed id (`rfid`): a string; a JSON number is kept as its decimal digits. */
const feedMessage = { message: "must be a feed id (a string, or a non-negative integer)" }
export const FeedId = Schema.Union([
  Schema.Number.check(Schema.isInt(feedMessage), Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, feedMessage)),
  Schema.String.check(Schema.isMaxLength(200, { message: "must be a feed id of at most 200 characters" }))
]).annotate({ message: "must be a feed id (a string, or a non-negative integer)" }).pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transformEffect<string, number | string>({
      decode: (value) => {
        if (typeof value === "string") {
          const problem = textProblem(value) ?? (value.length <= 200 ? undefined : "must be a feed id of at most 200 characters")
          return problem === undefined ? Effect.succeed(value) : Effect.fail(new SchemaIssue.InvalidValue({ message: problem }))
        }
        return Number.isSafeInteger(value) && value >= 0
          ? Effect.succeed(String(value))
          : Effect.fail(new SchemaIssue.InvalidValue({ message: "must be a feed id (a string, or a non-negative integer)" }))
      },
      encode: Effect.succeed
    })
  )
).annotate({ description: "The user's Janus publisher (feed) id; the Galaxy client sends \"<user id>-abc\"" })

/** ISO 3166 alpha-2, any case; answered upper-case. */
export const CountryCode = Schema.String.check(Schema.isPattern(/^[A-Za-z]{2}$/u, { message: "must be a two-letter country code" })).pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transformEffect<string, string>({
      decode: (text) =>
        /^[A-Za-z]{2}$/.test(text)
          ? Effect.succeed(text.toUpperCase())
          : Effect.fail(new SchemaIssue.InvalidValue({ message: "must be a two-letter country code" })),
      encode: Effect.succeed
    })
  )
).annotate({ description: "Two-letter country code (ISO 3166-1 alpha-2), any case" })

/** A gateway's name, e.g. gxy5. */
export const GatewayName = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$/u, { message: "must be a gateway name (letters, digits, . _ -; at most 50)" })
).annotate({ description: "A gateway's name, e.g. gxy5", examples: ["gxy5"] })

const countryCodeField = keptText(64, "the caller's country code")

/** The optional fields of a room request that may be normalised or dropped, as the field counter names them. */
export const roomRequestFields = ["geo", "geo.country_code"] as const

/**
 * The caller's country from a room request's `geo` (`{country_code}`): upper
 * case, undefined when absent or empty. Any text is taken: one that is not a
 * region's code simply matches no region. A `geo` that is not an object is
 * dropped, never refused.
 */
export const requestCountry = (geo: unknown): { readonly country: string | undefined; readonly notes: FieldNotes } => {
  if (geo === undefined || geo === null) return { country: undefined, notes: [] }
  if (typeof geo !== "object" || Array.isArray(geo)) return { country: undefined, notes: [{ field: "geo", outcome: "dropped", reason: "not an object" }] }
  const { values, notes } = keepFields({ country_code: countryCodeField }, geo as Readonly<Record<string, unknown>>)
  const country = values.country_code?.trim().toUpperCase()
  return { country: country || undefined, notes: notes.map((n) => ({ ...n, field: `geo.${n.field}` })) }
}

/** `geo` of a room request, as the API document shows it. */
export const RequestGeo = Schema.optionalKey(Schema.Unknown.annotate({
  description: "{country_code}: the caller's country code (any case; empty = none). Codes of no region match none; a geo that is not an object is ignored"
}))
