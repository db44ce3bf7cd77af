// What one stranger or one user can consume is bounded (SPEC §14): silent
// connections are closed, connections over the cap refused at once, a
// flooding real-time socket is answered "rate limited" while another user's
// requests stay served, a socket that shows no token is closed, a user's
// sessions are capped, failed logins are throttled per address and name, a
// gateway's credentials act for that gateway only, and oversized MQTT
// messages are dropped. Each answers what a client or an operator sees:
// statuses, bodies, counters, log lines.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import { connect as tcpConnect, type Socket } from "node:net"
import { ask, connect } from "../support/channel.ts"
import { inProcessBroker, publisher } from "../support/broker.ts"
import { backend } from "../support/database.ts"
import { basic, send } from "../support/identity.ts"
import { collectLogs, type Reply, serviceOnFreshDatabase } from "../support/service.ts"

const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

const eventually = <A, E, R>(check: Effect.Effect<A, E, R>, times = 100) =>
  Effect.retry(check, { schedule: Schedule.spaced(Duration.millis(100)), times })

/** A sample of a counter from /metrics (0 when absent). */
const counter = (api: { get: (p: string) => Effect.Effect<Reply> }, series: string) =>
  Effect.map(api.get("/metrics"), (r) => {
    const line = String(r.body).split("\n").find((l) => l.startsWith(`${series} `))
    return line === undefined ? 0 : Number(line.split(" ").at(-1))
  })

/** `n` TCP connections to `base` that never send a byte; each tells when the server closed it. */
const silentConnections = (base: string, n: number) =>
  Effect.acquireRelease(
    Effect.promise(() => {
      const url = new URL(base)
      return Promise.all(Array.from({ length: n }, () =>
        new Promise<{ socket: Socket; closed: Promise<number> }>((resolve, reject) => {
          const opened = Date.now()
          const socket = tcpConnect(Number(url.port), url.hostname)
          socket.on("error", () => {})
          const closed = new Promise<number>((done) => socket.once("close", () => done(Date.now() - opened)))
          socket.once("connect", () => resolve({ socket, closed }))
          socket.once("error", reject)
        })))
    }),
    (sockets) => Effect.sync(() => sockets.forEach((s) => s.socket.destroy()))
  )

describe(`connections are bounded (${backend})`, () => {
  it.live("connections that never send a byte are closed after HEADERS_TIMEOUT; others are served meanwhile", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ HEADERS_TIMEOUT: "2s" })
      const silent = yield* silentConnections(base, 50)
      // served while the silent ones wait
      expectStatus(yield* api.get("/groups"), 200)
      const closedAfter = yield* Effect.promise(() => Promise.all(silent.map((s) => s.closed)))
      for (const ms of closedAfter) {
        assert.isAtLeast(ms, 1_900, "not before HEADERS_TIMEOUT")
        assert.isAtMost(ms, 30_000, "closed, not kept forever")
      }
      assert.strictEqual(yield* counter(api, `http_connections_refused_total{reason="silent"}`), 50)
      expectStatus(yield* api.get("/groups"), 200)
    }).pipe(Effect.scoped), 120_000)

  it.live("beyond MAX_CONNECTIONS a new connection is closed at once and counted; when they go, it is served again", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ MAX_CONNECTIONS: "20", HEADERS_TIMEOUT: "30s" })
      const held = yield* silentConnections(base, 20)
      const refused = yield* Effect.promise(() => fetch(`${base}/health`).then(() => "answered", (e) => String(e.cause?.code ?? e)))
      assert.notStrictEqual(refused, "answered")
      yield* Effect.sync(() => held.forEach((s) => s.socket.destroy()))
      yield* eventually(Effect.tryPromise(() => fetch(`${base}/health`)).pipe(Effect.flatMap((r) => (r.status === 200 ? Effect.void : Effect.fail(r)))))
      assert.isAtLeast(yield* counter(api, `http_connections_refused_total{reason="over_cap"}`), 1)
    }).pipe(Effect.scoped))
})

describe(`admission control (${backend})`, () => {
  it.live("beyond MAX_IN_FLIGHT requests of a class in progress, the next is a JSON 503 with Retry-After at once; other classes and health checks go on", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ MAX_IN_FLIGHT: "reads:2" })
      // 100 concurrent reads (each one query), at most two at a time
      const replies = yield* Effect.promise(() =>
        Promise.all(Array.from({ length: 100 }, async () => {
          const r = await fetch(`${base}/room/2171`)
          return { status: r.status, retryAfter: r.headers.get("retry-after"), body: await r.json() as { error?: string } }
        })))
      const shed = replies.filter((r) => r.status === 503)
      assert.strictEqual(shed.length + replies.filter((r) => r.status === 200).length, 100, "only 200s and 503s")
      assert.isAbove(shed.length, 0)
      for (const r of shed) {
        assert.strictEqual(r.body.error, "overloaded: 2 requests of this kind are in progress here; try again")
        assert.strictEqual(r.retryAfter, "2")
      }
      assert.strictEqual(yield* counter(api, `http_requests_shed_total{class="reads"}`), shed.length)
      // other classes, and health checks, are not held back by the reads
      expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      expectStatus(yield* api.get("/health"), 200)
      expectStatus(yield* api.get("/room/2171"), 200)
    }).pipe(Effect.scoped))
})

describe(`the real-time channel's limits (${backend})`, () => {
  it.live("a socket flooding events is answered rate limited and counted; another user's events and requests stay served", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ REALTIME_EVENTS_PER_SECOND: "10", REALTIME_QUEUE: "8" })
      const room = expectStatus(yield* api.post("/api/rooms/create", { name: "Flood" }), 201).room
      const flooder = yield* connect(base, { auth: { token: "demo-token" } })
      const other = yield* connect(base, { auth: { token: "demo-token" } })
      const answers = yield* Effect.promise(() =>
        Promise.all(Array.from({ length: 2_000 }, () => flooder.timeout(20_000).emitWithAck("getUsersInRoom", { roomId: room.id })))
      )
      const limited = answers.filter((a) => a.error === "rate limited").length
      const served = answers.filter((a) => Array.isArray(a.users)).length
      assert.strictEqual(limited + served, 2_000)
      // a burst of twice the rate at most, the rest refused
      assert.isAtMost(served, 40)
      assert.isAtLeast(limited, 1_900)
      assert.deepStrictEqual(yield* ask(other, "getUsersInRoom", { roomId: room.id }), { users: [] })
      expectStatus(yield* api.get("/groups"), 200)
      const counted = (yield* counter(api, `realtime_events_refused_total{reason="rate"}`)) + (yield* counter(api, `realtime_events_refused_total{reason="queue"}`))
      assert.strictEqual(counted, limited)
    }).pipe(Effect.scoped))

  it.live("a socket that shows no token within REALTIME_AUTH_TIMEOUT is closed; one that joins stays", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ REALTIME_AUTH_TIMEOUT: "1s" })
      const room = expectStatus(yield* api.post("/api/rooms/create", { name: "Strangers" }), 201).room
      const strangers = yield* Effect.forEach(Array.from({ length: 20 }), () => connect(base))
      const member = yield* connect(base)
      assert.deepInclude((yield* ask(member, "joinRoom", { roomId: room.id, token: "demo-token", userId: "ann" })).user, { userId: "ann" })
      yield* eventually(Effect.suspend(() => (strangers.every((s) => !s.connected) ? Effect.void : Effect.fail("still connected"))), 100)
      assert.isTrue(member.connected)
      assert.strictEqual(yield* counter(api, `realtime_events_refused_total{reason="unauthenticated"}`), 20)
    }).pipe(Effect.scoped))
})

describe(`one user, one gateway, one address (${backend})`, () => {
  it.live("a user's ninth live session closes the oldest (MAX_SESSIONS_PER_USER 8), and its room hears it leave", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const { api, sql } = yield* serviceOnFreshDatabase({ SCALE: "true" }, logs.logger)
      for (let i = 1; i <= 9; i++) {
        expectStatus(yield* api.put("/users/many", { room: i <= 5 ? 2171 : 2172, janus: "gxy1", session: i, rfid: `many-${i}` }), 200)
      }
      const live = yield* sql<{ gateway_session: string }>(
        `SELECT s.gateway_session::text FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.account_id = 'many' AND s.removed_at IS NULL ORDER BY s.gateway_session`
      )
      assert.deepStrictEqual(live.map((r) => r.gateway_session), ["2", "3", "4", "5", "6", "7", "8", "9"])
      assert.strictEqual(expectStatus(yield* api.get("/room/2171"), 200).num_users, 4)
      assert.strictEqual((yield* api.get("/admin/rooms/2171/machine")).body.sessions, 4)
      assert.strictEqual(yield* counter(api, "sessions_closed_over_limit_total"), 1)
      assert.isDefined(logs.lines.find((l) => l.includes("Closed sessions over the per-user limit") && l.includes("user_id=many")))
    }).pipe(Effect.scoped))

  it.live("a gateway's credentials act for that gateway only: an event naming another gateway is 403 and closes nothing", () =>
    Effect.gen(function*() {
      const servicePassword = "service-secret"
      const { base } = yield* serviceOnFreshDatabase({ AUTH_JWT_SECRET: "test-secret-of-at-least-32-bytes!!", SERVICE_PASSWORD: servicePassword })
      const http = send(base)
      const service = basic("service", servicePassword)
      expectStatus(yield* http("PATCH", "/admin/gateways/gxy5", service, { events_password: "gxy5-events" }), 200)
      expectStatus(yield* http("PUT", "/users/victim", service, { room: 2171, janus: "gxy1", session: 1, rfid: "victim-feed" }), 200)
      const leaving = (emitter: string) => ({ emitter, type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", id: "victim-feed" } } })

      const foreign = yield* http("POST", "/event", basic("gxy5", "gxy5-events"), leaving("gxy1"))
      assert.strictEqual(foreign.status, 403)
      assert.match(foreign.body.error, /gxy5's credentials act for gxy5 only/)
      // named by its Janus server name, the event closes gxy5's sessions only: none here
      expectStatus(yield* http("POST", "/event", basic("gxy5", "gxy5-events"), leaving("janus-server-7")), 200)
      assert.strictEqual((yield* http("GET", "/room/2171", service)).body.num_users, 1)
      // the gateway itself may
      expectStatus(yield* http("PATCH", "/admin/gateways/gxy1", service, { events_password: "gxy1-events" }), 200)
      expectStatus(yield* http("POST", "/event", basic("gxy1", "gxy1-events"), leaving("gxy1")), 200)
      assert.strictEqual((yield* http("GET", "/room/2171", service)).body.num_users, 0)
    }).pipe(Effect.scoped))

  it.live("failed logins are throttled per address and name: 429 with Retry-After, no password checked, each failure logged", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const servicePassword = "service-secret"
      const { base, api } = yield* serviceOnFreshDatabase(
        { AUTH_JWT_SECRET: "test-secret-of-at-least-32-bytes!!", SERVICE_PASSWORD: servicePassword, LOGIN_FAILURES_PER_MINUTE: "5", METRICS_AUTH: "false" },
        logs.logger
      )
      const http = send(base)
      expectStatus(yield* http("PATCH", "/admin/gateways/gxy5", basic("service", servicePassword), { events_password: "right" }), 200)
      const statuses: Array<number> = []
      for (let i = 0; i < 40; i++) statuses.push((yield* http("POST", "/event", basic("gxy5", `guess-${i}`), { type: 1 })).status)
      assert.deepStrictEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401])
      assert.deepStrictEqual(new Set(statuses.slice(5)), new Set([429]))
      const throttled = yield* http("POST", "/event", basic("gxy5", "right"), { type: 1 })
      assert.strictEqual(throttled.status, 429, "the right password too, until the minute passes")
      assert.match(throttled.body.error, /too many failed logins for gxy5 from this address: try again in \d+ s/)
      assert.match(throttled.headers.get("retry-after") ?? "", /^\d+$/)
      // another name from the same address is not locked out
      expectStatus(yield* http("PATCH", "/admin/gateways/gxy6", basic("service", servicePassword), { events_password: "six" }), 200)
      expectStatus(yield* http("POST", "/event", basic("gxy6", "six"), { type: 1 }), 200)
      assert.strictEqual(yield* counter(api, `login_failures_total{outcome="checked"}`), 5)
      assert.strictEqual(yield* counter(api, `login_failures_total{outcome="throttled"}`), 36)
      assert.strictEqual(logs.lines.filter((l) => l.includes("Failed login") && l.includes("user=gxy5")).length, 5)
      assert.isFalse(logs.lines.some((l) => l.includes("guess-")), "no password in the log")
    }).pipe(Effect.scoped))
})

describe(`MQTT messages are bounded (${backend}, in-process broker)`, () => {
  it.live("a message over MQTT_MAX_MESSAGE or with more events than MQTT_MAX_BATCH is dropped, counted and logged; the next is handled", () =>
    Effect.gen(function*() {
      const broker = yield* inProcessBroker
      const logs = collectLogs()
      const { api } = yield* serviceOnFreshDatabase(
        { SCALE: "true", MQTT_URL: `mqtt://127.0.0.1:${broker.port}`, MQTT_MAX_MESSAGE: "64KiB", MQTT_MAX_BATCH: "100" },
        logs.logger
      )
      yield* eventually(Effect.flatMap(api.get("/ready"), (r) => (r.status === 200 ? Effect.void : Effect.fail(r))))
      const pub = yield* publisher({ host: "127.0.0.1", port: broker.port })
      const event = { type: 1, event: { name: "created" }, pad: "x".repeat(10) }
      yield* pub.publish("gxydb/events/big", Array.from({ length: 2_000 }, () => ({ ...event, pad: "x".repeat(100) })))
      yield* pub.publish("gxydb/events/many", Array.from({ length: 101 }, () => event))
      yield* pub.publish("gxydb/users/after", { room: 2171, janus: "gxy1", session: 1, rfid: "after" })
      yield* eventually(Effect.flatMap(api.get("/room/2171"), (r) => (r.body.num_users === 1 ? Effect.void : Effect.fail(r))))
      yield* eventually(Effect.suspend(() => {
        const dropped = logs.lines.filter((l) => l.includes("Dropped malformed MQTT message"))
        return dropped.length >= 2 ? Effect.succeed(dropped) : Effect.fail(dropped)
      }))
      assert.isDefined(logs.lines.find((l) => l.includes("over MQTT_MAX_MESSAGE (65536)")))
      assert.isDefined(logs.lines.find((l) => l.includes("101 events, over MQTT_MAX_BATCH (100)")))
      assert.strictEqual(yield* counter(api, `mqtt_messages_total{topic="events",outcome="dropped"}`), 2)
    }).pipe(Effect.scoped))
})
