// Fields of a client's message that do not identify anything: kept when they
// can be stored, otherwise normalised or dropped, so a keepalive is never
// refused for one (gxydb-api ignores or stores such values, and the Galaxy
// client sends what its geo service gives it). Pure: what became of each
// field is answered, the caller counts and logs it.
import { Schema } from "effect"
import { jsonProblem, textProblem } from "./text.ts"

/** What became of one field a client sent. */
export type Kept<T> =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Kept"; readonly value: T }
  | { readonly _tag: "Normalised"; readonly value: T; readonly reason: string }
  | { readonly _tag: "Dropped"; readonly reason: string }

const absent: Kept<never> = { _tag: "Absent" }
const kept = <T>(value: T): Kept<T> => ({ _tag: "Kept", value })
const normalised = <T>(value: T, reason: string): Kept<T> => ({ _tag: "Normalised", value, reason })
const dropped = (reason: string): Kept<never> => ({ _tag: "Dropped", reason })

/** The value to store: undefined when absent or dropped. */
export const valueOf = <T>(k: Kept<T>): T | undefined => (k._tag === "Kept" || k._tag === "Normalised" ? k.value : undefined)

/** One kind of optional field: how the API document shows it, and how a value is kept. */
export interface KeptField<T> {
  /** Accepts anything (a value that cannot be kept is dropped, never refused); documents what is kept. */
  readonly schema: Schema.optionalKey<Schema.Unknown>
  readonly keep: (value: unknown) => Kept<T>
}

const field = <T>(description: string, keep: (value: unknown) => Kept<T>): KeptField<T> => ({
  schema: Schema.optionalKey(Schema.Unknown.annotate({ description })),
  keep: (value) => (value === undefined || value === null ? absent : keep(value))
})

// A NUL goes; a surrogate half without its other half becomes U+FFFD.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const storable = (s: string) => s.replaceAll("\u0000", "").replace(loneSurrogate, "\ufffd")

/** The first `max` characters, never splitting a surrogate pair. */
const cut = (s: string, max: number) => {
  const head = s.slice(0, max)
  return /[\ud800-\udbff]$/.test(head) ? head.slice(0, -1) : head
}

/** Text of at most `max` characters: a number or boolean becomes its text, longer text is cut, unstorable characters replaced. */
export const keptText = (max: number, what = "text"): KeptField<string> =>
  field(`${what}, kept up to ${max} characters (a number becomes its text; a value of another type is dropped)`, (value) => {
    if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean") return normalised(String(value), "not text")
    if (typeof value !== "string") return dropped("not text")
    const reasons: Array<string> = []
    let text = value
    if (textProblem(text) !== undefined) {
      text = storable(text)
      reasons.push("unstorable characters replaced")
    }
    if (text.length > max) {
      text = cut(text, max)
      reasons.push(`cut at ${max} characters`)
    }
    return reasons.length === 0 ? kept(text) : normalised(text, reasons.join(", "))
  })

/** A boolean; "true"/"false" and 1/0 are read as one. */
export const keptFlag: KeptField<boolean> = field("a boolean (\"true\"/\"false\" and 1/0 are read as one; other values are dropped)", (value) => {
  if (typeof value === "boolean") return kept(value)
  if (value === "true" || value === 1) return normalised(true, "not a boolean")
  if (value === "false" || value === 0) return normalised(false, "not a boolean")
  return dropped("not a boolean")
})

const decimal = /^\s*-?\d+(\.\d*)?\s*$/

/** An integer within [min, Number.MAX_SAFE_INTEGER]: a fraction is cut, digits in a string are read. */
export const keptInteger = (min: number, description: string): KeptField<number> =>
  field(`${description} (a fraction is cut, digits in a string are read; other values are dropped)`, (value) => {
    const n = typeof value === "number" ? value : typeof value === "string" && decimal.test(value) ? Number(value) : Number.NaN
    if (!Number.isFinite(n)) return dropped("not a number")
    const whole = Math.trunc(n)
    if (whole < min || whole > Number.MAX_SAFE_INTEGER) return dropped("out of range")
    return typeof value === "number" && Number.isInteger(value) ? kept(whole) : normalised(whole, "not an integer")
  })

/** A JSON object Postgres can store, of at most `maxBytes` as JSON text. */
export const keptJsonObject = (maxBytes: number): KeptField<Readonly<Record<string, unknown>>> =>
  field(`a JSON object of at most ${maxBytes} bytes (anything else is dropped)`, (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return dropped("not an object")
    const problem = jsonProblem(value, "", 0)
    if (problem !== undefined) return dropped(problem)
    if (Buffer.byteLength(JSON.stringify(value)) > maxBytes) return dropped(`over ${maxBytes} bytes`)
    return kept(value as Readonly<Record<string, unknown>>)
  })

/** What became of each field of a message, by field name (absent ones left out). */
export type FieldNotes = ReadonlyArray<{ readonly field: string; readonly outcome: "normalised" | "dropped"; readonly reason: string }>

/** Keeps every field of `fields` found in `body`: the values to store and what was changed or dropped. */
export const keepFields = <F extends Record<string, KeptField<any>>>(fields: F, body: Readonly<Record<string, unknown>>): {
  readonly values: { readonly [K in keyof F]: F[K] extends KeptField<infer T> ? T | undefined : never }
  readonly notes: FieldNotes
} => {
  const values: Record<string, unknown> = {}
  const notes: Array<FieldNotes[number]> = []
  for (const [name, kind] of Object.entries(fields)) {
    const k = kind.keep(body[name])
    values[name] = valueOf(k)
    if (k._tag === "Normalised") notes.push({ field: name, outcome: "normalised", reason: k.reason })
    else if (k._tag === "Dropped") notes.push({ field: name, outcome: "dropped", reason: k.reason })
  }
  return { values: values as never, notes }
}
