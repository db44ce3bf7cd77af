// The OpenAPI document and the server agree, both ways: every example body
// the document shows is accepted (2xx, or the conflict it documents when the
// example already exists), and its answer matches the documented response
// schema; bodies the document calls invalid (a required field missing, a
// wrong type, an unknown field on a closed body, a broken pattern, length,
// integer or range rule) are refused with 400 naming the field.
import { assert, describe, it } from "@effect/vitest"
import { Ajv2020 } from "ajv/dist/2020.js"
import { Effect } from "effect"
import { backend } from "../support/database.ts"
import { call, serviceOnFreshDatabase } from "../support/service.ts"

type Json = any
interface Operation {
  readonly method: string
  readonly path: string
  readonly op: Json
}

/** The schema with every `#/components/schemas/…` reference replaced by its target. */
const inline = (schema: Json, components: Record<string, Json>): Json => {
  if (Array.isArray(schema)) return schema.map((s) => inline(s, components))
  if (typeof schema !== "object" || schema === null) return schema
  if (typeof schema.$ref === "string") return inline(components[schema.$ref.replace("#/components/schemas/", "")], components)
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v, components)]))
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
const valid = (schema: Json, value: unknown) => ajv.validate(schema, value)

/** Values of every JSON type; at least one is invalid for any schema that names types. */
const everyType: ReadonlyArray<unknown> = [true, 12345, 1.5, "not-what-it-wants!", [], {}, null, -1]

/** One-change variations of a valid body that the document itself calls invalid, with the field each names. */
const invalidVariations = (schema: Json, body: Record<string, unknown>): Array<{ readonly field: string; readonly body: unknown }> => {
  const out: Array<{ field: string; body: unknown }> = []
  const propertiesOf = (s: Json): Record<string, Json> => ({
    ...(s.properties ?? {}),
    ...Object.assign({}, ...(s.allOf ?? []).map((a: Json) => a.properties ?? {}))
  })
  for (const [name, property] of Object.entries(propertiesOf(schema))) {
    const replaced = (value: unknown) => ({ ...body, [name]: value })
    const candidates: Array<unknown> = [...everyType]
    const variants = [property, ...(property.anyOf ?? [])]
    for (const v of variants) {
      if (typeof v.maxLength === "number") candidates.push("a".repeat(v.maxLength + 1))
      if (typeof v.minLength === "number" && v.minLength > 0) candidates.push("")
      if (typeof v.maximum === "number" && v.maximum < Number.MAX_SAFE_INTEGER) candidates.push(v.maximum + 1)
      if (typeof v.minimum === "number" && v.minimum > -Number.MAX_SAFE_INTEGER) candidates.push(v.minimum - 1)
      if (typeof v.pattern === "string") candidates.push("!bad value!", " ", "00")
    }
    for (const value of candidates) {
      const candidate = replaced(value)
      if (!valid(schema, candidate)) out.push({ field: name, body: candidate })
    }
    if ((schema.required ?? []).includes(name)) {
      const { [name]: _, ...missing } = body
      out.push({ field: name, body: missing })
    }
  }
  if (schema.additionalProperties === false) out.push({ field: "surplus_field", body: { ...body, surplus_field: 1 } })
  return out
}

/** The path with its parameters filled from their examples. */
const pathWithExamples = (o: Operation) =>
  o.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const param = (o.op.parameters ?? []).find((p: Json) => p.name === name)
    const example = param?.schema?.examples?.[0] ?? param?.example
    assert.isDefined(example, `${o.method} ${o.path}: parameter ${name} has no example`)
    return encodeURIComponent(String(example))
  })

describe(`the OpenAPI document and the server agree (${backend})`, () => {
  it.live("every example body is accepted and answered as documented; every invalid variation is a 400 naming the field", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const doc = (yield* call("GET", `${base}/openapi.json`)).body
      const components = doc.components.schemas as Record<string, Json>
      const operations: Array<Operation> = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op }))
      )
      const withBodies = operations.filter((o) => o.op.requestBody !== undefined)
      assert.isAtLeast(withBodies.length, 7)

      let examples = 0
      let refused = 0
      for (const o of withBodies) {
        const schema = inline(o.op.requestBody.content["application/json"].schema, components)
        const url = `${base}${pathWithExamples(o)}`
        const bodyExamples: Array<unknown> = schema.examples ?? []
        assert.isAbove(bodyExamples.length, 0, `${o.method} ${o.path} has no example body`)
        for (const example of bodyExamples) {
          assert.isTrue(valid(schema, example), `${o.method} ${o.path}: example ${JSON.stringify(example)} does not match its own schema: ${ajv.errorsText()}`)
          const reply = yield* call(o.method, url, example)
          const documented = o.op.responses[String(reply.status)]
          assert.isTrue(reply.status < 300 || reply.status === 409, `${o.method} ${o.path} ${JSON.stringify(example)}: ${reply.status} ${JSON.stringify(reply.body)}`)
          assert.isDefined(documented, `${o.method} ${o.path}: ${reply.status} is not documented`)
          const answerSchema = inline(documented.content?.["application/json"]?.schema, components)
          assert.isTrue(valid(answerSchema, reply.body), `${o.method} ${o.path}: the answer ${JSON.stringify(reply.body)} does not match the document: ${ajv.errorsText()}`)
          examples++
        }

        const base0 = bodyExamples[0] as Record<string, unknown>
        if (typeof base0 !== "object" || base0 === null || Array.isArray(base0)) continue
        for (const variation of invalidVariations(schema, base0)) {
          const reply = yield* call(o.method, url, variation.body)
          assert.strictEqual(reply.status, 400, `${o.method} ${o.path} ${JSON.stringify(variation.body)}: ${reply.status} ${JSON.stringify(reply.body)}`)
          assert.include(reply.body.error, variation.field, `${o.method} ${o.path} ${JSON.stringify(variation.body)}`)
          refused++
        }
      }
      // The body as a whole of the wrong type.
      for (const o of withBodies) {
        for (const body of [42, "\"text\"", "[1]", "null"]) {
          const schema = inline(o.op.requestBody.content["application/json"].schema, components)
          if (valid(schema, JSON.parse(String(body)))) continue
          assert.strictEqual((yield* call(o.method, `${base}${pathWithExamples(o)}`, String(body))).status, 400, `${o.method} ${o.path} ${body}`)
          refused++
        }
      }
      console.log(`openapi: ${examples} examples accepted, ${refused} invalid bodies refused`)
      assert.isAtLeast(examples, 10)
      assert.isAtLeast(refused, 100)
    }).pipe(Effect.scoped))

  it.live("every answer of the read endpoints matches its documented schema", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const doc = (yield* call("GET", `${base}/openapi.json`)).body
      const components = doc.components.schemas as Record<string, Json>
      const { janus } = (yield* api.post("/v2/room_server", { room: 2171 })).body
      yield* api.put("/users/u1", { room: 2171, janus, session: 1, rfid: "u1-1", display: "U" })
      let checked = 0
      for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
        const get = methods.get
        // pages, metrics and the event stream answer no JSON (test/http/contract.test.ts checks them)
        if (get?.responses["200"]?.content?.["application/json"] === undefined) continue
        const o = { method: "GET", path, op: get }
        const required = (get.parameters ?? []).filter((p: Json) => p.in === "query" && p.required)
        const query = required.map((p: Json) => `${p.name}=${encodeURIComponent(String(p.schema?.examples?.[0] ?? "2171"))}`).join("&")
        const reply = yield* call("GET", `${base}${pathWithExamples(o)}${query === "" ? "" : `?${query}`}`)
        assert.strictEqual(reply.status, 200, `${path}: ${JSON.stringify(reply.body)}`)
        const schema = inline(get.responses["200"].content["application/json"].schema, components)
        assert.isTrue(valid(schema, reply.body), `GET ${path}: ${ajv.errorsText()}`)
        checked++
      }
      assert.isAtLeast(checked, 14)
    }).pipe(Effect.scoped))
})
