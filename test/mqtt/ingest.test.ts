// MQTT ingest against a real broker (Mosquitto at MQTT_URL in CI; an
// in-process broker otherwise). Each test uses its own room and gateways, so
// services of tests running at the same time ignore each other's messages.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import { backend } from "../support/database.ts"
import { brokerName, serviceOverMqtt } from "../support/broker.ts"
import { eventually, expectStatus, type Reply } from "../support/service.ts"

const machineOf = (api: { get: (p: string) => Effect.Effect<Reply> }, room: number) =>
  Effect.map(api.get(`/admin/rooms/${room}/machine`), (r) => r.body)

describe(`MQTT ingest (${backend}, ${brokerName})`, () => {
  it.live("gxydb/users keepalives and gxydb/events leaving drive the room like HTTP does", () =>
    Effect.gen(function*() {
      const { api, pub, gateways: [gw], room } = yield* serviceOverMqtt({ env: () => ({ DRAIN_GRACE: "500ms" }) })
      yield* pub.publish(`gxydb/users/mq-user-${room}`, { room, janus: gw, session: 5, rfid: 55, display: "Via MQTT" })
      const live = yield* eventually(Effect.flatMap(api.get(`/room/${room}`), (r) => (r.body.users?.length > 0 ? Effect.succeed(r.body) : Effect.fail(r))))
      assert.deepInclude(live.users[0], { id: `mq-user-${room}`, display: "Via MQTT", janus: gw })
      assert.deepInclude(yield* machineOf(api, room), { state: "assigned", gateway: gw, sessions: 1 })

      yield* pub.publish(`gxydb/events/${gw}`, {
        emitter: gw, type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", room, id: "55" } }
      })
      yield* eventually(Effect.flatMap(machineOf(api, room), (m) => (m.state === "idle" ? Effect.void : Effect.fail(m.state))))
      assert.deepStrictEqual(expectStatus(yield* api.get(`/room/${room}`), 200).users, [])
    }).pipe(Effect.scoped))

  it.live("malformed messages on every topic are logged with their topic and dropped; the service goes on", () =>
    Effect.gen(function*() {
      const { api, pub, logs, gateways: [gw], room } = yield* serviceOverMqtt()
      const bad: ReadonlyArray<readonly [string, unknown]> = [
        [`gxydb/users/bad-${room}`, "{not json"],
        [`gxydb/users/bad-${room}`, { room: "abc", janus: gw }],
        [`gxydb/users/bad-${room}`, { room: 1, janus: gw }],
        [`gxydb/users/bad-${room}`, { room, janus: gw, session: "abc", rfid: "x" }],
        [`gxydb/events/${gw}`, "\u0000\u0001"],
        [`gxydb/events/${gw}`, "[1, 2]"],
        [`gxydb/events/${gw}`, { type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", id: ["x"] } } }],
        [`gxydb/users/bad-${room}`, { room, janus: gw, session: 9, rfid: "" }],
        [`janus/${gw}/status`, "online"],
        [`janus/${gw}/status`, { online: "yes" }]
      ]
      for (const [topic, payload] of bad) yield* pub.publish(topic, payload)
      yield* pub.publish(`gxydb/users/good-${room}`, { room, janus: gw, session: 9, rfid: `good-${room}` })
      yield* eventually(Effect.flatMap(api.get(`/room/${room}`), (r) => (r.body.users?.length > 0 ? Effect.void : Effect.fail(r))))
      // topics are handled in parallel lanes: the good one may be through before every bad one is
      const dropped = yield* eventually(Effect.suspend(() => {
        const lines = logs.lines.filter((l) => l.includes("Dropped malformed MQTT message"))
        return lines.length >= bad.length ? Effect.succeed(lines) : Effect.fail(lines)
      }))
      for (const topic of [`gxydb/users/bad-${room}`, `gxydb/events/${gw}`, `janus/${gw}/status`]) {
        assert.isDefined(dropped.find((l) => l.includes(`topic=${topic}`)), topic)
      }
      expectStatus(yield* api.get("/health"), 200)
    }).pipe(Effect.scoped))

  it.live("a gateway offline for FAILOVER_WAIT_TIME has its rooms moved, within its region; back online it takes new rooms", () =>
    Effect.gen(function*() {
      const { api, pub, room, gateways } = yield* serviceOverMqtt({ gateways: 3, env: ([a, b, c]) => ({ SERVER_REGIONS: `IL:${a},${b};US:${c}`, FAILOVER_WAIT_TIME: "500ms" }) })
      const [a, b] = gateways
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room, geo: { country_code: "IL" } }), 200), { janus: a })
      expectStatus(yield* api.put(`/users/f-${room}`, { room, janus: a, session: 1, rfid: `f-${room}` }), 200)

      const status = `janus/${a}/status`
      yield* Effect.addFinalizer(() => pub.publish(status, "", true).pipe(Effect.ignore))
      const offlineAt = Date.now()
      yield* pub.publish(status, { online: false }, true)
      const moved = yield* eventually(Effect.flatMap(machineOf(api, room), (m) => (m.gateway === b ? Effect.succeed(m) : Effect.fail(m))))
      assert.isAtMost(Date.now() - offlineAt, 500 + 1_000 + 500, "moved within FAILOVER_WAIT_TIME + 1 s")
      assert.deepInclude(moved, { state: "assigned", gateway: b, region: "IL" })
      assert.deepInclude((yield* api.get("/admin/gateways")).body.find((g: { name: string }) => g.name === a), { online: false })

      yield* pub.publish(status, { online: true }, true)
      yield* eventually(Effect.flatMap(api.get("/admin/gateways"), (r) =>
        r.body.find((g: { name: string }) => g.name === a)?.online === true ? Effect.void : Effect.fail(r)))
      expectStatus(yield* api.post("/admin/rooms", { room: room + 1, name: `MQTT ${room} 2` }), 201)
      assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room: room + 1, geo: { country_code: "IL" } }), 200), { janus: a })
      assert.strictEqual((yield* machineOf(api, room)).gateway, b, "live rooms are not moved back")
    }).pipe(Effect.scoped))

  it.live("a broker away for 10 s is rejoined within 2 s of its return and resubscribed; /ready follows the broker", () =>
    Effect.gen(function*() {
      const { api, pub, relay, gateways: [gw], room } = yield* serviceOverMqtt()
      yield* relay.cut
      yield* eventually(Effect.flatMap(api.get("/ready"), (r) => (r.status === 503 ? Effect.succeed(r) : Effect.fail(r))))
      assert.match((yield* api.get("/ready")).body.error, /mqtt/)
      // long enough for the reconnect attempts to reach their longest spacing
      yield* Effect.sleep(Duration.seconds(10))
      yield* relay.restore
      const back = Date.now()
      yield* Effect.retry(Effect.flatMap(api.get("/ready"), (r) => (r.status === 200 ? Effect.void : Effect.fail(r))), {
        schedule: Schedule.spaced(Duration.millis(20)),
        times: 1_500
      })
      // 2 s between attempts at most, plus the connect itself: a second of slack for a busy machine
      assert.isAtMost(Date.now() - back, 3_000, "rejoined within 2 s (and a second of slack)")
      assert.strictEqual((yield* api.get("/ready")).body.mqtt, "connected")
      yield* pub.publish(`gxydb/users/back-${room}`, { room, janus: gw, session: 3, rfid: `back-${room}` })
      yield* eventually(Effect.flatMap(api.get(`/room/${room}`), (r) => (r.body.users?.length > 0 ? Effect.void : Effect.fail(r))))
    }).pipe(Effect.scoped), 60_000)
})
