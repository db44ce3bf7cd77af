// A room costs nothing while nobody talks to it: its actor leaves memory
// ROOM_RESIDENCY after its last message (rooms_resident, per process), a
// timer still pending then fires from storage (the deadline sweep wakes the
// room), and its next request reloads it with what it had.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { backend } from "../support/database.ts"
import { sample } from "../support/prometheus.ts"
import { serviceOnFreshDatabase } from "../support/service.ts"

const metricsOf = (base: string) => Effect.promise(() => fetch(`${base}/metrics`).then((r) => r.text()))

/** Scrapes until `check` holds (a ceiling of ~60 s, for a busy machine: the cluster looks for idle actors every 5 s). */
const eventually = (base: string, check: (text: string) => boolean) =>
  Effect.flatMap(metricsOf(base), (text) => (check(text) ? Effect.succeed(text) : Effect.fail(text))).pipe(
    Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 300 })
  )

/** Janus's event for a feed (the session's rfid) leaving its room. */
const leaving = (rfid: string) => ({ type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", id: rfid } } })

describe(`room residency (${backend})`, () => {
  it.live("an unused reservation's actor leaves memory, its TTL still releases it; idle, it stays out until its next request", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true", ROOM_RESIDENCY: "1s", ASSIGNMENT_TTL: "15s" })
      const first = yield* api.post("/v2/room_server", { room: 2171 })
      assert.strictEqual(first.status, 200)
      const gateway = first.body.janus
      assert.strictEqual(sample(yield* metricsOf(base), "rooms_resident"), 1)

      // Nobody joins: the actor leaves memory while the reservation (and its timer) stays in storage.
      const away = yield* eventually(base, (t) => sample(t, "rooms_resident") === 0)
      assert.strictEqual(sample(away, "rooms", { state: "assigned" }), 1, "still reserved when the actor left")
      assert.strictEqual(sample(away, "room_assignment_releases_total", { reason: "reservation_unused" }), 0)

      // The TTL runs out with no actor in memory: the deadline sweep wakes the room, which releases it.
      // (the gateway gauges are read from storage at most once a second)
      yield* eventually(base, (t) => sample(t, "room_assignment_releases_total", { reason: "reservation_unused" }) === 1 && sample(t, "gateway_rooms", { gateway }) === 0)

      // Idle, with no timer: out of memory again, and nothing wakes it.
      yield* eventually(base, (t) => sample(t, "rooms_resident") === 0 && sample(t, "rooms", { state: "idle" }) === 12)

      // Its next request reloads it and places it again.
      const again = yield* api.post("/v2/room_server", { room: 2171 })
      assert.strictEqual(again.status, 200)
      assert.strictEqual(sample(yield* metricsOf(base), "rooms_resident"), 1)
      const listed = yield* api.get("/room/2171")
      assert.strictEqual(listed.status, 200)
    }).pipe(Effect.scoped), 120_000)

  it.live("a room in use, out of memory between its users' messages, still counts them: the last one leaving drains it", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true", ROOM_RESIDENCY: "1s", DRAIN_GRACE: "1s" })
      const { janus } = (yield* api.post("/v2/room_server", { room: 2172 })).body
      assert.strictEqual((yield* api.put("/users/u1", { room: 2172, janus, session: 1, rfid: "u1-1" })).status, 200)
      assert.strictEqual((yield* api.put("/users/u2", { room: 2172, janus, session: 2, rfid: "u2-1" })).status, 200)
      yield* eventually(base, (t) => sample(t, "rooms_resident") === 0)

      // u1 leaves (Janus's leaving event): the room reloads, counts u2 still, and stays assigned.
      assert.strictEqual((yield* api.post("/event", leaving("u1-1"))).status, 200)
      const room = yield* api.get("/room/2172")
      assert.strictEqual(room.status, 200)
      assert.deepStrictEqual(room.body.users.map((u: { id: string }) => u.id), ["u2"], JSON.stringify(room.body))
      yield* eventually(base, (t) => sample(t, "rooms_resident") === 0)

      // u2 leaves: the room drains and its grace releases it.
      assert.strictEqual((yield* api.post("/event", leaving("u2-1"))).status, 200)
      yield* eventually(base, (t) => sample(t, "room_assignment_releases_total", { reason: "drain_grace_elapsed" }) === 1 && sample(t, "gateway_rooms", { gateway: janus }) === 0)
    }).pipe(Effect.scoped), 120_000)
})
