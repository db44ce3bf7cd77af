// MQTT credentials: a broker that requires a user name and password admits
// the service only with the right ones, whether they come from
// MQTT_USERNAME/MQTT_PASSWORD or from the URL (percent-encoded), and the
// password never reaches the logs.
import { assert, describe, it } from "@effect/vitest"
import { Aedes } from "aedes"
import { Duration, Effect, Schedule } from "effect"
import { createServer } from "node:net"
import { backend } from "../support/database.ts"
import { collectLogs, serviceOnFreshDatabase } from "../support/service.ts"

const username = "orchestrator@galaxy"
const password = "p@ss:w/rd %secret"

/** An in-process broker that admits only `username` / `password`; counts refusals. */
const lockedBroker = Effect.acquireRelease(
  Effect.promise(async () => {
    let refused = 0
    const broker = await Aedes.createBroker({
      authenticate: (_client, user, pass, done) => {
        const ok = user === username && pass?.toString() === password
        if (!ok) refused++
        done(ok ? null : Object.assign(new Error("Bad username or password"), { returnCode: 4 }), ok)
      }
    })
    const server = createServer(broker.handle)
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const address = server.address()
    return { broker, server, port: typeof address === "object" && address ? address.port : 0, refused: () => refused }
  }),
  ({ broker, server }) => Effect.promise(() => new Promise<void>((resolve) => {
    server.close()
    broker.close(() => resolve())
  }))
)

const readiness = (base: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${base}/ready`)
    return { status: response.status, body: await response.json() as { status?: string; mqtt?: string; error?: string } }
  })

const readyWithin = (base: string) =>
  Effect.retry(
    Effect.flatMap(readiness(base), (r) => (r.status === 200 ? Effect.succeed(r.body) : Effect.fail(r))),
    { schedule: Schedule.spaced(Duration.millis(100)), times: 50 }
  )

/** The service on a fresh database, its MQTT at the locked broker as `env` says (given the broker's port); its log lines kept. */
const serviceOnLockedBroker = (env: (port: number) => Record<string, string>) =>
  Effect.gen(function*() {
    const broker = yield* lockedBroker
    const logs = collectLogs()
    const { base } = yield* serviceOnFreshDatabase(env(broker.port), logs.logger)
    return { broker, logs, base }
  })

/** Whether a log line shows the password, as it is or percent-encoded. */
const showsPassword = (lines: ReadonlyArray<string>) => lines.some((l) => l.includes(password) || l.includes(encodeURIComponent(password)))

describe(`MQTT credentials (${backend}, in-process broker with authentication)`, () => {
  it.live("the right MQTT_USERNAME/MQTT_PASSWORD connect; /ready says so", () =>
    Effect.gen(function*() {
      const { broker, logs, base } = yield* serviceOnLockedBroker((port) => ({
        MQTT_URL: `mqtt://127.0.0.1:${port}`,
        MQTT_USERNAME: username,
        MQTT_PASSWORD: password
      }))
      assert.deepInclude(yield* readyWithin(base), { status: "ready", mqtt: "connected" })
      assert.strictEqual(broker.refused(), 0)
      assert.isTrue(logs.lines.some((l) => l.includes("MQTT connected")))
      assert.isFalse(showsPassword(logs.lines))
    }).pipe(Effect.scoped))

  it.live("credentials in the URL's userinfo are percent-decoded, even with ':' '@' '/' in them", () =>
    Effect.gen(function*() {
      const { logs, base } = yield* serviceOnLockedBroker((port) => ({
        MQTT_URL: `mqtt://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${port}`
      }))
      assert.deepInclude(yield* readyWithin(base), { mqtt: "connected" })
      assert.isFalse(showsPassword(logs.lines))
    }).pipe(Effect.scoped))

  it.live("a wrong password is refused by the broker: /ready answers 503, the password is not logged", () =>
    Effect.gen(function*() {
      const wrong = "not-the-password"
      const { broker, logs, base } = yield* serviceOnLockedBroker((port) => ({
        MQTT_URL: `mqtt://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
        // The explicit variables win over the URL's userinfo.
        MQTT_USERNAME: username,
        MQTT_PASSWORD: wrong
      }))
      yield* Effect.retry(
        Effect.suspend(() => (broker.refused() > 0 ? Effect.void : Effect.fail("not yet"))),
        { schedule: Schedule.spaced(Duration.millis(100)), times: 50 }
      )
      const ready = yield* readiness(base)
      assert.strictEqual(ready.status, 503)
      assert.deepStrictEqual(ready.body, { error: "mqtt broker unavailable" })
      assert.isFalse(logs.lines.some((l) => l.includes(wrong) || l.includes(password)))
    }).pipe(Effect.scoped))
})
