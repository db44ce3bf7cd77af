// Values checked against what Postgres can store before they get there, so
// a bad one is a 400 naming its field, never a 500 from the database: text
// without NUL characters or lone surrogates, JSON whose keys and strings are
// such text, integers within their column.
import { Schema } from "effect"

// A NUL, or a surrogate half without its other half.
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

export const textProblem = (s: string): string | undefined =>
  s.includes("\u0000") ? "must not contain NUL characters" : unstorable.test(s) ? "must be valid Unicode (no lone surrogates)" : undefined

/** Text Postgres can store, at most `max` characters. */
export const StoredText = (max: number) =>
  Schema.String.check(
    Schema.makeFilter((s: string) => textProblem(s) ?? (s.length <= max || `must be at most ${max} characters`), {
      toJsonSchema: () => ({ maxLength: max })
    })
  ).annotate({ description: `Text of at most ${max} characters, without NUL characters or lone surrogates` })

/** Non-empty stored text, at most `max` characters. */
export const StoredName = (max: number) =>
  StoredText(max).check(Schema.makeFilter((s: string) => s.trim() !== "" || "must not be empty", { toJsonSchema: () => ({ pattern: "\\S" }) }))

/** The first unstorable key or string inside a JSON value, with where it is. */
export const jsonProblem = (value: unknown, path: string, depth: number): string | undefined => {
  if (depth > 32) return `${path || "value"}: nested too deeply (at most 32 levels)`
  if (typeof value === "string") {
    const p = textProblem(value)
    return p === undefined ? undefined : `${path || "value"}: ${p}`
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const p = jsonProblem(v, `${path}[${i}]`, depth + 1)
      if (p !== undefined) return p
    }
    return undefined
  }
  if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const key = textProblem(k)
      if (key !== undefined) return `${path ? `${path}.` : ""}key ${JSON.stringify(k)}: ${key}`
      const p = jsonProblem(v, path ? `${path}.${k}` : k, depth + 1)
      if (p !== undefined) return p
    }
  }
  return undefined
}

/** A JSON object Postgres can store as jsonb (gxydb-api's free-form `extra`). */
export const StoredJsonObject = Schema.Record(Schema.String, Schema.Unknown).check(
  Schema.makeFilter((o: Readonly<Record<string, unknown>>) => jsonProblem(o, "", 0) ?? true)
).annotate({ description: "A JSON object; its keys and strings without NUL characters or lone surrogates" })

/** A count: a whole number, never negative, Infinity or NaN. */
export const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** An integer an INTEGER column holds (1 … 2^31 − 1). */
export const PositiveInt32 = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1), Schema.isLessThanOrEqualTo(2_147_483_647))
