// Query and path parameters whose every rule is in the API document: each is
// checked by a regular expression that the document states as its `pattern`,
// so a value the document allows is never refused, and one it refuses never
// reaches a handler.
import { Effect, Schema, SchemaTransformation } from "effect"

/** Text matching `pattern` (stated in the document), else `message`. */
export const patterned = (pattern: RegExp, message: string) =>
  Schema.String.check(Schema.makeFilter((s: string) => pattern.test(s) || message, { toJsonSchema: () => ({ pattern: pattern.source }) }))

/** The regular expression of the decimal numbers from 1 to `max`, without leading zeros. */
export const upToPattern = (max: number): string => {
  const digits = String(max)
  const range = (low: number, high: number) => (low === high ? String(low) : `[${low}-${high}]`)
  const shorter = digits.length > 1 ? [`[1-9]\\d{0,${digits.length - 2}}`] : []
  const sameLength: Array<string> = []
  for (let i = 0; i < digits.length; i++) {
    const low = i === 0 ? 1 : 0
    const d = Number(digits[i])
    const rest = digits.length - i - 1
    if (d > low) sameLength.push(`${digits.slice(0, i)}${range(low, d - 1)}${rest > 0 ? `\\d{${rest}}` : ""}`)
  }
  return `^(?:${[...shorter, ...sameLength, digits].join("|")})$`
}

/** A whole number from 1 to `max` in a query, as decimal digits. */
export const countParam = (max: number) => {
  const message = `must be a whole number from 1 to ${max}`
  return patterned(new RegExp(upToPattern(max)), message).annotate({ examples: [String(Math.min(max, 100))] }).pipe(Schema.decodeTo(
    Schema.Int,
    SchemaTransformation.transformEffect<number, string>({
      decode: (s) => Effect.succeed(Number(s)),
      encode: (n) => Effect.succeed(String(n))
    })
  ))
}

/** The `next_cursor` of a previous page. */
export const CursorParam = patterned(/^\d{1,15}$/, "must be the next_cursor of a previous page").annotate({
  description: "The next_cursor of the previous page",
  examples: ["0"]
})

/** A row id in a path: a positive whole number. */
export const RowIdParam = (what: string) =>
  patterned(/^[1-9]\d{0,14}$/, `must be a ${what} id (a positive whole number)`).annotate({ examples: ["1"] }).pipe(Schema.decodeTo(
    Schema.Int,
    SchemaTransformation.transformEffect<number, string>({
      decode: (s) => Effect.succeed(Number(s)),
      encode: (n) => Effect.succeed(String(n))
    })
  ))
