// Fuzzing every route of the service's own OpenAPI document and every MQTT
// topic it subscribes to, on a real database: no input may get a 5xx, hang,
// leave a stack trace in the log or make the service unready, and every
// status answered must be one the document lists for the route.
//
// It runs in the suite with a fixed seed (FUZZ_SEED, default 20261122; FUZZ_RUNS, default 60, sets
// how many inputs each route and topic gets). Per route: plausible inputs
// first; then hostile variations of those the service accepted (one body
// field, path parameter or query value swapped); then anything at all.
// Every distinct failure is printed with an input that caused it.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import fc from "fast-check"
import { backend } from "../support/database.ts"
import { inProcessBroker, publisher } from "../support/broker.ts"
import { collectLogs, serviceOnFreshDatabase } from "../support/service.ts"
import { body, type Dictionary, encodeText, hostileStrings, hostileText, type JsonSchema, mutated, plausible } from "./inputs.ts"

const seed = Number(process.env.FUZZ_SEED ?? 20261122)
const runs = Number(process.env.FUZZ_RUNS ?? 60)

interface Operation {
  readonly method: string
  readonly path: string
  readonly parameters?: ReadonlyArray<{ readonly name: string; readonly in: string; readonly schema?: JsonSchema }>
  readonly requestBody?: { readonly content?: Record<string, { readonly schema?: JsonSchema }> }
  readonly responses?: Record<string, unknown>
}

interface Input {
  readonly path: ReadonlyArray<readonly [string, string]>
  readonly query: ReadonlyArray<readonly [string, string]>
  readonly body: string | undefined
}

interface Failure {
  readonly where: string
  readonly inputs: ReadonlyArray<string>
  readonly status: string
  readonly answer: string
  readonly log: string
}

// A frame of a stack trace, as logfmt writes it (newlines escaped) or raw.
const stackFrame = /(\\n|\n)\s*at \S.*:\d+:\d+/
const isBadLine = (line: string) => stackFrame.test(line) || /\blevel=(ERROR|FATAL)\b/.test(line)

/** The gist of a log line: its message, its cause's first line and innermost `[cause]`. */
const gist = (line: string) => {
  const message = /message=("(?:[^"\\]|\\.)*"|\S+)/.exec(line)?.[1] ?? ""
  const cause = (/cause="((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? "").split("\\n").map((l) => l.trim())
  const innermost = cause.filter((l) => l.startsWith("[cause]:")).at(-1) ?? ""
  return [message, cause[0] ?? "", innermost].filter((s) => s !== "").join(" | ").slice(0, 300)
}

const described = (line: string) => `${stackFrame.test(line) ? "[with a stack trace] " : ""}${gist(line)}`

/** Every string and number in a JSON value, with the field it sits under. */
const leaves = (value: unknown, key = ""): Array<readonly [string, string | number]> =>
  Array.isArray(value)
    ? value.flatMap((v) => leaves(v, key))
    : typeof value === "object" && value !== null
    ? Object.entries(value).flatMap(([k, v]) => leaves(v, k))
    : typeof value === "string" || typeof value === "number"
    ? [[key, value] as const]
    : []

const dictionaryOf = (data: ReadonlyArray<unknown>): Dictionary => {
  const found = data.flatMap((d) => leaves(d))
  const byKey: Record<string, Array<string | number>> = {}
  for (const [k, v] of found) byKey[k] = [...new Set([...(byKey[k] ?? []), v])]
  const values = found.map(([, v]) => v)
  return {
    strings: [...new Set([...values.filter((v): v is string => typeof v === "string"), "janus.plugin.videoroom", "joined", "leaving"])],
    numbers: [...new Set(values.filter((v): v is number => typeof v === "number"))],
    byKey
  }
}

const send = (method: string, url: string, payload: string | undefined) =>
  Effect.promise(async () => {
    try {
      const response = await fetch(url, {
        method,
        signal: AbortSignal.timeout(15_000),
        ...(payload === undefined ? {} : { body: payload, headers: { "content-type": "application/json" } })
      })
      return { status: response.status, text: await response.text() }
    } catch (e) {
      return { status: 0, text: `no answer: ${String((e as { cause?: unknown }).cause ?? e)}` }
    }
  })

const short = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text)

const shown = (payload: unknown) =>
  payload instanceof Uint8Array ? `bytes ${[...payload].join(",")}` : typeof payload === "string" ? payload : JSON.stringify(payload)

const withoutNulls = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(withoutNulls)
    : typeof value === "object" && value !== null
    ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]))
    : value

const topicSafe = (text: string) => text.replace(/[/+#\u0000\ud800-\udfff]/g, "_").slice(0, 60) || "_"

describe(`fuzzing every route and topic (${backend})`, () => {
  it.live("no generated input gets a 5xx, a stack trace in the log, or leaves the service unready", () =>
    Effect.gen(function*() {
      const broker = yield* inProcessBroker
      const logs = collectLogs()
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true", MQTT_URL: `mqtt://127.0.0.1:${broker.port}` }, logs.logger)
      const doc = (yield* api.get("/openapi.json")).body as {
        paths: Record<string, Record<string, Omit<Operation, "method" | "path">>>
        components?: { schemas?: Record<string, JsonSchema> }
      }
      const components = doc.components?.schemas ?? {}
      const dictionary = dictionaryOf([(yield* api.get("/admin/rooms")).body, (yield* api.get("/admin/gateways")).body])

      // Distinct failures by route, status and cause; up to three example inputs each.
      const failures = new Map<string, Failure & { count: number }>()
      const fail = (key: string, failure: Failure) => {
        const seen = failures.get(key)
        failures.set(
          key,
          seen ? { ...seen, count: seen.count + 1, inputs: [...new Set([...seen.inputs, ...failure.inputs])].slice(0, 3) } : { ...failure, count: 1 }
        )
      }

      // --- HTTP: every path and method of the document.
      // (the live stream never ends: test/inspect/machines.test.ts checks it)
      const endless = (op: Omit<Operation, "method" | "path">) =>
        (op as { responses?: Record<string, { content?: Record<string, unknown> }> }).responses?.["200"]?.content?.["text/event-stream"] !== undefined
      const operations: Array<Operation> = Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.entries(methods).filter(([, op]) => !endless(op)).map(([method, op]) => ({ ...op, method: method.toUpperCase(), path }))
      )
      let httpInputs = 0
      // Bodies each route accepted, the bases for the MQTT payloads of the same shape.
      const acceptedBodies = new Map<string, ReadonlyArray<unknown>>()
      // Statuses per route, printed so a reader sees how many inputs got past validation.
      const statuses = new Map<string, Map<number, number>>()

      const attempt = (op: Operation, input: Input) =>
        Effect.gen(function*() {
          let url = op.path
          for (const [name, value] of input.path) url = url.replace(`{${name}}`, encodeText(value))
          const query = input.query.map(([k, v]) => `${encodeText(k)}=${encodeText(v)}`).join("&")
          const target = `${url}${query === "" ? "" : `?${query}`}`
          const mark = logs.lines.length
          const reply = yield* send(op.method, base + target, input.body)
          httpInputs++
          const route = `${op.method} ${op.path}`
          const counts = statuses.get(route) ?? new Map<number, number>()
          statuses.set(route, counts.set(reply.status, (counts.get(reply.status) ?? 0) + 1))
          const bad = logs.lines.slice(mark).filter(isBadLine)
          // The document lists every status the route answers.
          if (reply.status !== 0 && op.responses?.[String(reply.status)] === undefined) {
            fail(`${route} ${reply.status} is not in the OpenAPI document`, {
              where: route,
              inputs: [`${op.method} ${short(target, 200)}${input.body === undefined ? "" : ` ${short(input.body)}`}`],
              status: String(reply.status),
              answer: short(reply.text),
              log: ""
            })
          }
          if (reply.status >= 500 || reply.status === 0 || bad.length > 0) {
            fail(`${route} ${reply.status} ${bad.length > 0 ? gist(bad[0]!) : reply.text}`, {
              where: route,
              inputs: [`${op.method} ${short(target, 200)}${input.body === undefined ? "" : ` ${short(input.body)}`}`],
              status: String(reply.status),
              answer: short(reply.text),
              log: bad.length > 0 ? described(bad[0]!) : ""
            })
          }
          return reply.status
        })

      const fuzzRoute = (op: Operation, index: number) => Effect.gen(function*() {
        const pathParams = (op.parameters ?? []).filter((p) => p.in === "path")
        const queryNames = [...(op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name), "x", "room"]
        const schema = op.requestBody?.content?.["application/json"]?.schema
        const stream = (n: number) => ({ seed: seed + 100 * index + n, numRuns: runs })

        // 1. Plausible inputs; those the service accepts are the bases for what follows.
        const plausibleInput: fc.Arbitrary<Input> = fc.record({
          path: fc.tuple(...pathParams.map((p) => plausible(p.schema ?? {}, dictionary, components, 0, p.name).map((v) => [p.name, String(v)] as const))),
          query: fc.constant([]),
          body: schema === undefined ? fc.constant(undefined) : plausible(schema, dictionary, components).map((v) => JSON.stringify(v))
        })
        const tried = fc.sample(plausibleInput, stream(1))
        const accepted: Array<Input> = []
        for (const input of tried) {
          if ((yield* attempt(op, input)) < 300) accepted.push(input)
        }

        if (schema !== undefined) acceptedBodies.set(`${op.method} ${op.path}`, accepted.map((a) => JSON.parse(a.body!)))

        // 2. Hostile variations of accepted inputs (or fresh plausible ones, since a
        // create accepted once now conflicts): one thing changed.
        const bases = fc.oneof(
          ...(accepted.length > 0 ? [fc.constantFrom(...accepted)] : []),
          plausibleInput
        )
        const variation: fc.Arbitrary<Input> = bases.chain((b) =>
          fc.oneof(
            ...(b.body === undefined ? [] : [mutated(fc.constant(JSON.parse(b.body)), schema).map((v) => ({ ...b, body: JSON.stringify(v) }))]),
            ...(pathParams.length === 0 ? [] : [
              fc.tuple(fc.nat(), hostileText).map(([i, v]) => ({ ...b, path: b.path.map((p, j) => (j === i % b.path.length ? [p[0], v] as const : p)) }))
            ]),
            fc.tuple(fc.constantFrom(...queryNames, "\u0000"), hostileText).map(([k, v]) => ({ ...b, query: [[k, v] as const] }))
          )
        )
        for (const input of fc.sample(variation, { ...stream(2), numRuns: 2 * runs })) yield* attempt(op, input)

        // 3. Anything at all: arbitrary JSON, not JSON, hostile everywhere.
        const anything: fc.Arbitrary<Input> = fc.record({
          path: fc.tuple(...pathParams.map((p) => hostileText.map((v) => [p.name, v] as const))),
          query: fc.array(fc.tuple(fc.constantFrom(...queryNames, "\u0000"), fc.constantFrom(...hostileStrings)), { maxLength: 2 }),
          body: schema === undefined ? fc.constant(undefined) : body(schema, dictionary, components)
        })
        for (const input of fc.sample(anything, { ...stream(3), numRuns: Math.ceil(runs / 2) })) yield* attempt(op, input)
      })
      // The client routes first, then MQTT, then the admin routes (deleting last), so
      // that each meets the demo rooms and gateways before the admin fuzzing changes them.
      const isAdmin = (op: Operation) => op.path.startsWith("/admin/")
      for (const [index, op] of operations.entries()) {
        if (!isAdmin(op)) yield* fuzzRoute(op, index)
      }

      // --- MQTT: the payloads of the matching HTTP routes, and raw bytes.
      const schemaOf = (path: string, method: string) => doc.paths[path]?.[method]?.requestBody?.content?.["application/json"]?.schema ?? {}
      const statusSchema: JsonSchema = { type: "object", properties: { online: { type: "boolean" } }, required: ["online"] }
      const raw = fc.constantFrom<unknown>(new Uint8Array([0xff, 0xfe, 0x00]), "", "{", "\u0000", "{\"online\":true,\"x\":\"\\u0000\"}")
      const payload = (schema: JsonSchema, route: string) => {
        const seen = (acceptedBodies.get(route) ?? []).map(withoutNulls)
        return fc.oneof(
          { weight: 8, arbitrary: seen.length === 0 ? body(schema, dictionary, components) : mutated(fc.constantFrom(...seen), schema) },
          { weight: 2, arbitrary: body(schema, dictionary, components) },
          { weight: 1, arbitrary: raw }
        )
      }
      const segment = fc.oneof(fc.constantFrom(...dictionary.strings.map(topicSafe)), fc.string({ maxLength: 12 }).map(topicSafe))
      const message = (topic: (segment: string) => string, p: fc.Arbitrary<unknown>): fc.Arbitrary<readonly [string, unknown]> =>
        fc.tuple(segment, p).map(([s, v]) => [topic(s), v] as const)
      const topics: ReadonlyArray<readonly [string, fc.Arbitrary<readonly [string, unknown]>]> = [
        ["gxydb/users/<id>", message((id) => `gxydb/users/${id}`, payload(schemaOf("/users/{id}", "put"), "PUT /users/{id}"))],
        ["gxydb/events/<x>", message((x) => `gxydb/events/${x}`, payload(schemaOf("/event", "post"), "POST /event"))],
        ["janus/<gw>/status", message((gw) => `janus/${gw}/status`, payload(statusSchema, ""))]
      ]
      const pub = yield* publisher({ host: "127.0.0.1", port: broker.port })
      const sent = new Map<string, Array<unknown>>()
      const mark = logs.lines.length
      let mqttInputs = 0
      for (const [index, [, messages]] of topics.entries()) {
        for (const [sampled, p] of fc.sample(messages, { seed: seed + 10_000 + index, numRuns: 2 * runs })) {
          // Users and events topics take any last segment: a numbered one tells which payload a log line is about.
          const topic = sampled.startsWith("gxydb/") ? `${sampled}.${mqttInputs}` : sampled
          yield* pub.publish(topic, p)
          sent.set(topic, [...(sent.get(topic) ?? []), p])
          mqttInputs++
        }
      }
      // Wait until the service has been quiet for a while: ingest logs each message it drops.
      let seen = -1
      for (let quiet = 0, waited = 0; quiet < 3 && waited < 60; waited++) {
        yield* Effect.sleep(Duration.seconds(1))
        quiet = logs.lines.length === seen ? quiet + 1 : 0
        seen = logs.lines.length
      }
      const mqttLines = logs.lines.slice(mark)
      const dropped = mqttLines.filter((l) => l.includes("Dropped malformed MQTT message")).length
      for (const line of mqttLines.filter(isBadLine)) {
        const topic = /topic=("(?:[^"\\]|\\.)*"|\S+)/.exec(line)?.[1]?.replace(/^"|"$/g, "") ?? "?"
        const kind = topics.find(([name]) => topic.startsWith(name.split("<")[0]!))?.[0] ?? topic
        fail(`MQTT ${kind} ${gist(line)}`, {
          where: `MQTT ${kind}`,
          inputs: [`${topic} ${(sent.get(topic) ?? []).length > 1 ? "← one of: " : ""}${short((sent.get(topic) ?? []).map(shown).join(" | "), 600)}`],
          status: "-",
          answer: "",
          log: described(line)
        })
      }

      for (const method of ["GET", "POST", "PATCH", "DELETE"]) {
        for (const [index, op] of operations.entries()) {
          if (isAdmin(op) && (op.method === method || (method === "PATCH" && !["GET", "POST", "DELETE"].includes(op.method)))) {
            yield* fuzzRoute(op, index)
          }
        }
      }

      const ready = yield* api.get("/ready")
      const report = [...failures.values()].map((f, i) =>
        `${i + 1}. ${f.where} → ${f.status} (${f.count}×)\n${f.inputs.map((x) => `   input: ${x}\n`).join("")}   answer: ${f.answer}${
          f.log === "" ? "" : `\n   log: ${f.log}`
        }`
      )
      console.log(
        `fuzz: seed ${seed}, ${httpInputs} HTTP inputs on ${operations.length} routes, ${mqttInputs} MQTT messages on ${topics.length} topics ` +
          `(${dropped} dropped as malformed); ` +
          `${failures.size} distinct failures; /ready ${ready.status}\n` +
          [...statuses].map(([route, counts]) => `  ${route}: ${[...counts].sort(([a], [b]) => a - b).map(([st, n]) => `${st}×${n}`).join(" ")}`).join("\n") +
          (report.length > 0 ? `\n${report.join("\n")}` : "")
      )
      assert.strictEqual(ready.status, 200, "the service is ready after the fuzzing")
      assert.strictEqual((yield* api.get("/health")).status, 200)
      assert.deepStrictEqual(report, [], `${failures.size} distinct failures`)
    }).pipe(Effect.scoped), { timeout: 30 * 60_000 })
})
