// Room numbers and country codes as clients send them.
import { Effect, Schema, SchemaIssue, SchemaTransformation } from "effect"

/** The Janus videoroom id: a positive integer; clients send a JSON number or a numeric string. */
const roomNumberMessage = "must be a positive integer room number"

export const RoomNumber = Schema.Union([Schema.Number, Schema.String]).annotate({ message: roomNumberMessage }).pipe(
  Schema.decodeTo(
    Schema.Int.annotate({ description: "A room number (Janus videoroom id)" }),
    SchemaTransformation.transformEffect<number, number | string>({
      decode: (value) => {
        const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value
        return typeof n === "number" && Number.isSafeInteger(n) && n > 0
          ? Effect.succeed(n)
          : Effect.fail(new SchemaIssue.InvalidValue({ message: "must be a positive integer room number" }))
      },
      encode: (n) => Effect.succeed(n)
    })
  )
)

/** A room number in a path: digits only. */
export const RoomNumberParam = Schema.String.pipe(
  Schema.decodeTo(
    Schema.Int,
    SchemaTransformation.transformEffect<number, string>({
      decode: (text) => {
        const n = /^\d+$/.test(text) ? Number(text) : Number.NaN
        return Number.isSafeInteger(n) && n > 0
          ? Effect.succeed(n)
          : Effect.fail(new SchemaIssue.InvalidValue({ message: "must be a positive integer room number" }))
      },
      encode: (n) => Effect.succeed(String(n))
    })
  )
)

/** ISO 3166 alpha-2, any case; answered upper-case. */
export const CountryCode = Schema.String.pipe(
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
  Schema.makeFilter((s: string) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$/.test(s) || "must be a gateway name (letters, digits, . _ -; at most 50)")
)
