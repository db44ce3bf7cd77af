// Generated inputs for the fuzz test: values shaped by the service's own
// OpenAPI schemas (plausible ones drawn from the live data, so requests get
// past the first check), then one part swapped for something hostile: NUL
// characters, lone surrogates, integers past 2^31 and 2^63, long strings,
// wrong types.
import fc from "fast-check"

export type JsonSchema = {
  readonly type?: string | ReadonlyArray<string>
  readonly anyOf?: ReadonlyArray<JsonSchema>
  readonly oneOf?: ReadonlyArray<JsonSchema>
  readonly allOf?: ReadonlyArray<JsonSchema>
  readonly enum?: ReadonlyArray<unknown>
  readonly const?: unknown
  readonly properties?: Readonly<Record<string, JsonSchema>>
  readonly required?: ReadonlyArray<string>
  readonly items?: JsonSchema
  readonly minimum?: number
  readonly maximum?: number
  readonly minLength?: number
  readonly maxLength?: number
  readonly pattern?: string
  readonly $ref?: string
}

/** Values the service already knows (rooms, gateways, …), so generated requests reach past "not found". */
export interface Dictionary {
  readonly strings: ReadonlyArray<string>
  readonly numbers: ReadonlyArray<number>
  /** The values seen under each field name. */
  readonly byKey: Readonly<Record<string, ReadonlyArray<string | number>>>
}

/** Strings no Postgres text column or JSON value takes as they are. */
export const unstorableStrings: ReadonlyArray<string> = [
  "\u0000",
  "gxy1\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "\ud83d",
  "😀\u0000😀"
]

export const hostileStrings: ReadonlyArray<string> = [
  ...unstorableStrings,
  "",
  " ",
  "x".repeat(1_001),
  "é".repeat(5_000),
  "' OR 1=1 --",
  "%00",
  "\\",
  "\"",
  "2147483648",
  "9223372036854775808",
  "-9223372036854775809",
  "1e400",
  "NaN",
  "Infinity",
  "-0",
  "0x10",
  "../..",
  "\u202e\u200b\ufeff"
]

export const hostileNumbers: ReadonlyArray<number> = [
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 63,
  -(2 ** 63),
  1e308,
  -1e308,
  Number.MIN_VALUE,
  -1,
  0,
  -0,
  0.5,
  1.000001
]

const wrongTypes: ReadonlyArray<unknown> = [null, true, false, [], {}, [1, "a"], { nested: { deep: [null] } }, "", 0]

/** Something hostile of any type. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...hostileStrings) },
  { weight: 3, arbitrary: fc.constantFrom(...hostileNumbers) },
  { weight: 1, arbitrary: fc.constantFrom(...wrongTypes) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }
)

/** A JSON value whose strings are sometimes hostile (for free-form fields such as `extra`). */
const freeJson: fc.Arbitrary<unknown> = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...hostileStrings.slice(0, 6))),
  fc.oneof(hostile, fc.string({ maxLength: 12 }), fc.integer()),
  { maxKeys: 4 }
)

const resolve = (schema: JsonSchema, components: Readonly<Record<string, JsonSchema>>): JsonSchema =>
  schema.$ref === undefined ? schema : resolve(components[schema.$ref.split("/").at(-1)!] ?? {}, components)

/**
 * A plausible value for `schema`: the right shape, often a value the service
 * knows (by field name first), the first alternative of a union most often,
 * optional fields mostly left out — so that many pass validation.
 */
export const plausible = (
  raw: JsonSchema,
  dictionary: Dictionary,
  components: Readonly<Record<string, JsonSchema>> = {},
  depth = 0,
  key?: string
): fc.Arbitrary<unknown> => {
  const schema = resolve(raw, components)
  const again = (s: JsonSchema, k: string | undefined) => plausible(s, dictionary, components, depth + 1, k)
  const branches = schema.anyOf ?? schema.oneOf
  if (branches !== undefined) {
    return fc.oneof(
      { weight: 6, arbitrary: again(branches[0]!, key) },
      { weight: 1, arbitrary: fc.oneof(...branches.map((b) => again(b, key))) }
    )
  }
  const seen = key === undefined ? [] : dictionary.byKey[key] ?? []
  if (seen.length > 0 && schema.enum === undefined && (schema.type === "string" || schema.type === "number" || schema.type === "integer")) {
    const fitting = seen.filter((v) => (schema.type === "string") === (typeof v === "string"))
    if (fitting.length > 0) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fitting) }, { weight: 1, arbitrary: again(schema, undefined) })
  }
  if (schema.allOf !== undefined && schema.allOf.length > 0) return again(schema.allOf[0]!, key)
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum)
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case "string":
      if (schema.pattern !== undefined) {
        // Known values that fit the pattern first (a room id the service has, as digits), then any match.
        const pattern = new RegExp(schema.pattern, "u")
        const known = [...new Set([...seen, ...dictionary.strings, ...dictionary.numbers].map(String))].filter((v) => pattern.test(v))
        return known.length > 0
          ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: fc.stringMatching(pattern) })
          : fc.stringMatching(pattern)
      }
      return fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...dictionary.strings, ...dictionary.numbers.map(String)) },
        // Identifier-like: what most string fields accept (names, ids).
        { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{2,11}$/) }
      )
    case "integer":
    case "number": {
      const min = schema.minimum ?? -1_000
      const max = Math.min(schema.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER)
      const known = dictionary.numbers.filter((n) => n >= min && n <= max)
      return fc.oneof(
        { weight: 3, arbitrary: known.length > 0 ? fc.constantFrom(...known) : fc.integer({ min: Math.max(min, -1_000), max: Math.min(max, 1_000_000) }) },
        { weight: 1, arbitrary: fc.integer({ min: Math.max(min, -1_000), max: Math.min(max, 1_000_000) }) }
      )
    }
    case "boolean":
      return fc.boolean()
    case "null":
      return fc.constant(null)
    case "array":
      return depth > 3 ? fc.constant([]) : fc.array(again(schema.items ?? {}, undefined), { maxLength: 3 })
    case "object": {
      if (schema.properties === undefined) return freeJson
      if (depth > 3) return fc.constant({})
      const required = new Set(schema.required ?? [])
      const fields = Object.entries(schema.properties).map(([name, s]) =>
        required.has(name)
          ? again(s, name).map((v) => [[name, v]] as Array<[string, unknown]>)
          : fc.oneof(
            { weight: 3, arbitrary: fc.constant([] as Array<[string, unknown]>) },
            { weight: 1, arbitrary: again(s, name).map((v) => [[name, v]] as Array<[string, unknown]>) }
          )
      )
      return fc.tuple(...fields).map((entries) => Object.fromEntries(entries.flat()))
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

// Every place in a JSON value where a value sits, as a path of keys/indexes.
const places = (value: unknown, path: ReadonlyArray<string | number> = []): Array<ReadonlyArray<string | number>> => {
  const here = path.length > 0 ? [path] : []
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => places(v, [...path, i]))]
  if (typeof value === "object" && value !== null) {
    return [...here, ...Object.entries(value).flatMap(([k, v]) => places(v, [...path, k]))]
  }
  return here
}

const replaced = (value: unknown, path: ReadonlyArray<string | number>, by: unknown): unknown => {
  if (path.length === 0) return by
  const [head, ...rest] = path
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? replaced(v, rest, by) : v))
  const record = value as Record<string, unknown>
  return { ...record, [head!]: replaced(record[head!], rest, by) }
}

const typeOf = (schema: JsonSchema | undefined): string | undefined => {
  if (schema === undefined) return undefined
  const first = (schema.anyOf ?? schema.oneOf)?.[0]
  return first !== undefined ? typeOf(first) : Array.isArray(schema.type) ? schema.type[0] : schema.type as string | undefined
}

/**
 * `value` with one thing changed: a place swapped for a hostile value, a
 * field of `schema` (present or not) set to one, a key dropped, or an
 * unknown key added. Two times in three the hostile value has the type the
 * place expects (a NUL in a string, 2^31 in a number), so it passes a loose
 * check and meets the database.
 */
export const mutated = (value: fc.Arbitrary<unknown>, schema: JsonSchema = {}): fc.Arbitrary<unknown> =>
  fc.record({
    v: value,
    n: fc.nat(),
    any: hostile,
    text: fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...unstorableStrings) }, { weight: 1, arbitrary: fc.constantFrom(...hostileStrings) }),
    number: fc.constantFrom(...hostileNumbers),
    typed: fc.constantFrom(true, true, false),
    how: fc.constantFrom("swap", "swap", "set", "set", "drop", "add")
  }).map(({ v, n, any, text, number, typed, how }) => {
    const bad = (like: unknown) =>
      !typed ? any : typeof like === "string" || like === "string" ? text : typeof like === "number" || like === "number" || like === "integer" ? number : any
    const isObject = typeof v === "object" && v !== null && !Array.isArray(v)
    const properties = schema.properties ?? (schema.anyOf ?? schema.oneOf)?.[0]?.properties ?? {}
    const fields = Object.keys(properties)
    if (how === "set" && isObject && fields.length > 0) {
      const field = fields[n % fields.length]!
      return { ...v, [field]: bad(typeOf(properties[field])) }
    }
    if (how === "add" && isObject) return { ...v, ["unknown\u0000key"]: any }
    const all = places(v)
    if (all.length === 0) return any
    const path = all[n % all.length]!
    if (how === "drop" && typeof path.at(-1) === "string") {
      const parentPath = path.slice(0, -1)
      const parent = parentPath.reduce<any>((o, k) => o[k], v)
      const { [path.at(-1) as string]: _dropped, ...rest } = parent
      return replaced(v, parentPath, rest)
    }
    return replaced(v, path, bad(path.reduce<any>((o, k) => o[k], v)))
  })

/** A request body for `schema`: mostly near-valid, sometimes anything at all or not JSON. */
export const body = (schema: JsonSchema, dictionary: Dictionary, components: Readonly<Record<string, JsonSchema>>) =>
  fc.oneof(
    { weight: 6, arbitrary: mutated(plausible(schema, dictionary, components), schema).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: plausible(schema, dictionary, components).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom("{", "", "\u0000", "null", "[]", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\u0000\"}", "1e999", "{\"room\":1e999}") }
  )

/** Hostile text for a path parameter or query value. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...hostileStrings, ...hostileNumbers.map(String), "x".repeat(1_200)) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) }
)

/** Percent-encodes any string, lone surrogates too (as their WTF-8 bytes, which no UTF-8 decoder accepts). */
export const encodeText = (text: string): string => {
  let out = ""
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const pair = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    if (pair) {
      out += encodeURIComponent(text.slice(i, i + 2))
      i++
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += `%${(0xe0 | (code >> 12)).toString(16).toUpperCase()}%${(0x80 | ((code >> 6) & 0x3f)).toString(16).toUpperCase()}%${
        (0x80 | (code & 0x3f)).toString(16).toUpperCase()
      }`
    } else {
      out += encodeURIComponent(text[i]!)
    }
  }
  return out
}
