// The counters an operator alerts on move where their events happen: a
// released assignment by its reason, the dead-session cleaner, MQTT messages
// by topic kind and outcome.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { inProcessBroker, publisher } from "../support/broker.ts"
import { backend } from "../support/database.ts"
import { sample } from "../support/prometheus.ts"
import { serviceOnFreshDatabase } from "../support/service.ts"

const metricsOf = (base: string) => Effect.promise(() => fetch(`${base}/metrics`).then((r) => r.text()))

/** Scrapes until `check` holds (at most ~10 s). */
const eventually = (base: string, check: (text: string) => boolean) =>
  Effect.flatMap(metricsOf(base), (text) => (check(text) ? Effect.succeed(text) : Effect.fail(text))).pipe(
    Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50 })
  )

describe(`counters (${backend})`, () => {
  it.live("a dead session cleaned and the room's assignment released after the drain grace are counted", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({
        SCALE: "true",
        DEAD_SESSION_PERIOD: "1s",
        CLEAN_SESSIONS_INTERVAL: "300ms",
        DRAIN_GRACE: "300ms"
      })
      const { janus } = (yield* api.post("/v2/room_server", { room: 2171 })).body
      assert.strictEqual((yield* api.put("/users/u1", { room: 2171, janus, session: 1, rfid: "u1-1" })).status, 200)
      // no more keepalives: the cleaner closes the session, the room drains, the grace passes
      const text = yield* eventually(base, (t) => sample(t, "room_assignment_releases_total", { reason: "drain_grace_elapsed" }) === 1)
      assert.strictEqual(sample(text, "sessions_cleaned_total"), 1)
      assert.strictEqual(sample(text, "room_assignment_releases_total", { reason: "reservation_unused" }), 0)
      const after = yield* eventually(base, (t) => sample(t, "gateway_rooms", { gateway: janus }) === 0)
      assert.strictEqual(sample(after, "rooms", { state: "idle" }), 12)
    }).pipe(Effect.scoped))

  it.live("MQTT messages by topic kind and outcome: handled, dropped as malformed", () =>
    Effect.gen(function*() {
      const broker = yield* inProcessBroker
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true", MQTT_URL: `mqtt://127.0.0.1:${broker.port}` })
      yield* Effect.flatMap(api.get("/ready"), (r) => (r.status === 200 ? Effect.void : Effect.fail(r))).pipe(
        Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 })
      )
      const pub = yield* publisher({ host: "127.0.0.1", port: broker.port })
      yield* pub.publish("gxydb/users/u7", { room: 2171, janus: "gxy1", session: 7, rfid: "u7-1" })
      yield* pub.publish("gxydb/users/u8", "not json")
      yield* pub.publish("janus/gxy2/status", { online: true })
      yield* pub.publish("gxydb/events/gxy1", "[1, 2]")
      const text = yield* eventually(base, (t) => sample(t, "mqtt_messages_total", { topic: "events", outcome: "dropped" }) === 1)
      assert.strictEqual(sample(text, "mqtt_messages_total", { topic: "users", outcome: "handled" }), 1)
      assert.strictEqual(sample(text, "mqtt_messages_total", { topic: "users", outcome: "dropped" }), 1)
      assert.strictEqual(sample(text, "mqtt_messages_total", { topic: "status", outcome: "handled" }), 1)
      assert.strictEqual(sample(text, "mqtt_messages_total", { topic: "events", outcome: "handled" }), 0)
      assert.strictEqual(sample(text, "mqtt_messages_total", { topic: "users", outcome: "failed" }), 0)
    }).pipe(Effect.scoped))
})
