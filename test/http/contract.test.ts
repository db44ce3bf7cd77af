// The API document is the server. The document the service serves is valid
// for swagger-parser and clean for Redocly's recommended rules; it names
// every route the service answers; and, operation by operation, a request
// built from the document's own schemas (every parameter set from its
// example, the body from its example) is never refused as bad input, a few
// requests that violate the schemas are refused with 400 naming the field,
// and every answer has a documented status and matches that status's schema.
import SwaggerParser from "@apidevtools/swagger-parser"
import { createConfig, lintFromString } from "@redocly/openapi-core"
import { assert, describe, it } from "@effect/vitest"
import { Ajv2020 } from "ajv/dist/2020.js"
import { Effect } from "effect"
import { backend } from "../support/database.ts"
import { call, type Reply, serviceOnFreshDatabase } from "../support/service.ts"

type Json = any

interface Operation {
  readonly method: string
  readonly path: string
  readonly op: Json
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })

/** The schema with every `#/components/schemas/…` reference replaced by its target. */
const inline = (schema: Json, components: Record<string, Json>): Json => {
  if (Array.isArray(schema)) return schema.map((s) => inline(s, components))
  if (typeof schema !== "object" || schema === null) return schema
  if (typeof schema.$ref === "string") return inline(components[schema.$ref.replace("#/components/schemas/", "")], components)
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v, components)]))
}

/** A parameter's value a client would send, from the document: its example, else its first allowed value. */
const exampleOf = (p: Json): string | undefined => {
  const s = p.schema ?? {}
  const value = s.examples?.[0] ?? p.example ?? s.enum?.[0]
  return value === undefined ? undefined : String(value)
}

/** Values that break a parameter's schema (each checked against the schema before it is sent). */
const violationsOf = (p: Json): ReadonlyArray<string> => {
  const s = p.schema ?? {}
  const candidates = ["!bad value!", "0", "-1", "1.5", "00", "x".repeat(s.maxLength === undefined ? 70 : s.maxLength + 1), "not-a-member"]
  // an empty path segment is another route, not a bad value
  return candidates.filter((v) => !ajv.validate(s, v) && !(p.in === "path" && v === "")).slice(0, 3)
}

const orderOf = ["get", "post", "put", "patch", "delete"]

describe(`the API document is the server (${backend})`, () => {
  it.live("valid for swagger-parser, clean for Redocly's recommended rules, and every route is in it", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const doc = (yield* call("GET", `${base}/openapi.json`)).body
      const api = yield* Effect.promise(() => SwaggerParser.validate(structuredClone(doc)))
      assert.strictEqual(api.info.title, "room-orchestrator")
      const config = yield* Effect.promise(() => createConfig({ extends: ["recommended"] }))
      const problems = yield* Effect.promise(() => lintFromString({ source: JSON.stringify(doc), absoluteRef: "openapi.json", config }))
      assert.deepStrictEqual(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`), [])
      assert.includeMembers(Object.keys(doc.paths), [
        "/metrics", "/admin/machines/events", "/inspect", "/meet", "/docs", "/openapi.json",
        "/admin/sessions", "/admin/sessions/{id}", "/admin/assignments", "/admin/assignments/{room}/release", "/admin/assignments/{room}/reassign"
      ])
      assert.deepStrictEqual(doc.components.securitySchemes.bearer, {
        type: "http",
        scheme: "bearer",
        bearerFormat: "JWT",
        description: "An OIDC access token (roles in realm_access.roles), or an HS256 token from `npm run token`"
      })
      // every constraint in the schema: the keepalive's feed id is required and not empty
      const keepalive = inline(doc.paths["/users/{id}"].put.requestBody.content["application/json"].schema, doc.components.schemas)
      assert.include(keepalive.required, "rfid")
      assert.isFalse(ajv.validate(keepalive, { room: 2171, janus: "gxy5", rfid: "" }))
    }).pipe(Effect.scoped))

  it.live("each operation: a request built from its schema is answered as documented; requests breaking it are 400", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const doc = (yield* call("GET", `${base}/openapi.json`)).body
      const components = doc.components.schemas as Record<string, Json>
      const operations: Array<Operation> = Object.entries(doc.paths as Record<string, Record<string, Json>>)
        .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ method, path, op })))
        .sort((a, b) => orderOf.indexOf(a.method) - orderOf.indexOf(b.method))

      /** Checks an answer against the operation's documented responses; answers its status. */
      const documented = (o: Operation, what: string, reply: Reply & { readonly contentType: string }) => {
        const response = o.op.responses[String(reply.status)]
        assert.isDefined(response, `${what}: ${reply.status} is not documented (${JSON.stringify(reply.body).slice(0, 200)})`)
        const [contentType] = Object.keys(response.content ?? {})
        if (contentType === undefined) return reply.status
        assert.isTrue(reply.contentType.startsWith(contentType), `${what}: answered ${reply.contentType}, documented ${contentType}`)
        if (contentType === "application/json") {
          const schema = inline(response.content[contentType].schema, components)
          assert.isTrue(ajv.validate(schema, reply.body), `${what}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)} does not match the document: ${ajv.errorsText()}`)
        }
        return reply.status
      }

      const send = (method: string, url: string, body?: unknown) =>
        Effect.promise(async () => {
          const controller = new AbortController()
          const response = await fetch(url, {
            method: method.toUpperCase(),
            signal: controller.signal,
            ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
          })
          const contentType = response.headers.get("content-type") ?? ""
          // an endless stream: its first bytes tell enough
          if (contentType.startsWith("text/event-stream")) {
            controller.abort()
            return { status: response.status, body: "", contentType }
          }
          const text = await response.text()
          let parsed: unknown = text
          try {
            parsed = JSON.parse(text)
          } catch {
            // not JSON
          }
          return { status: response.status, body: parsed, contentType }
        })

      let valid = 0
      let refused = 0
      for (const o of operations) {
        const parameters: Array<Json> = o.op.parameters ?? []
        const values = new Map<string, string>()
        for (const p of parameters) {
          const value = exampleOf(p)
          assert.isDefined(value, `${o.method} ${o.path}: parameter ${p.name} has no example`)
          assert.isTrue(ajv.validate(p.schema, value), `${o.method} ${o.path}: the example of ${p.name} breaks its own schema`)
          values.set(p.name, value!)
        }
        const url = (override?: { readonly name: string; readonly value: string }) => {
          const value = (p: Json) => (override !== undefined && override.name === p.name ? override.value : values.get(p.name)!)
          const path = o.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(value(parameters.find((p) => p.name === name))))
          const query = parameters.filter((p) => p.in === "query").map((p) => `${p.name}=${encodeURIComponent(value(p))}`).join("&")
          return `${base}${path}${query === "" ? "" : `?${query}`}`
        }
        const bodySchema = o.op.requestBody === undefined ? undefined : inline(o.op.requestBody.content["application/json"].schema, components)
        const body = bodySchema?.examples?.[0]
        if (bodySchema !== undefined) assert.isDefined(body, `${o.method} ${o.path}: the body has no example`)

        const what = `${o.method.toUpperCase()} ${o.path}`
        const status = documented(o, what, yield* send(o.method, url(), body))
        assert.notStrictEqual(status, 400, `${what}: a request the document allows was refused`)
        valid++

        for (const p of parameters) {
          for (const bad of violationsOf(p)) {
            const reply = yield* send(o.method, url({ name: p.name, value: bad }), body)
            assert.strictEqual(documented(o, `${what} ${p.name}=${bad}`, reply), 400, `${what} ${p.name}=${bad}`)
            assert.include((reply.body as { error: string }).error, p.name, `${what} ${p.name}=${bad}`)
            refused++
          }
        }
        if (bodySchema === undefined) continue
        const breaking: Array<unknown> = [42, []]
        for (const name of bodySchema.required ?? []) {
          const { [name]: _, ...without } = body
          breaking.push(without)
        }
        for (const broken of breaking.filter((b) => !ajv.validate(bodySchema, b))) {
          const reply = yield* send(o.method, url(), broken)
          assert.strictEqual(documented(o, `${what} ${JSON.stringify(broken)}`, reply), 400, `${what} ${JSON.stringify(broken)}`)
          refused++
        }
      }
      console.log(`contract: ${operations.length} operations, ${valid} requests built from the document answered as documented, ${refused} breaking it refused with 400`)
      assert.isAtLeast(operations.length, 44)
      assert.isAtLeast(refused, 60)
    }).pipe(Effect.scoped))
})
