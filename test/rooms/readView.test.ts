// Sticky answers from the read view (src/rooms/readView.ts): a room assigned
// with users is answered without its actor; a room that is not (draining,
// empty) is answered by its actor, which then acts (a drain is cancelled);
// an entry expires after its lease; a stall of the process drops the view.
// What the client sees is the same gateway throughout; what tells the two
// paths apart is room_server_answers_total{source} and the room's machine.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import { backend } from "../support/database.ts"
import { type Reply, serviceOnFreshDatabase } from "../support/service.ts"

const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

const answers = (api: { get: (p: string) => Effect.Effect<Reply> }) =>
  Effect.map(api.get("/metrics"), (r) => {
    const read = (source: string) =>
      Number(String(r.body).split("\n").find((l) => l.startsWith(`room_server_answers_total{source="${source}"}`))?.split(" ").at(-1) ?? Number.NaN)
    return { view: read("view"), room: read("room") }
  })

const eventually = <A, E, R>(check: Effect.Effect<A, E, R>) =>
  Effect.retry(check, { schedule: Schedule.spaced(Duration.millis(50)), times: 100 })

/** Blocks this process (and the service in it) as a long GC or a frozen VM would. */
const stall = (ms: number) =>
  Effect.sync(() => {
    const until = performance.now() + ms
    while (performance.now() < until) {
      // busy
    }
  })

describe(`sticky answers from the read view (${backend})`, () => {
  it.live("assigned with users: from the view; draining: the room's actor answers and cancels its drain; leases expire; a stall drops the view", () =>
    Effect.gen(function*() {
      // DRAIN_GRACE 8 s: a lease of 2 s
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "8s" })
      const ask = () => Effect.map(api.post("/v2/room_server", { room: 2171 }), (r) => expectStatus(r, 200).janus as string)
      const gateway = yield* ask()
      expectStatus(yield* api.put("/users/u1", { room: 2171, janus: gateway, session: 1, rfid: "u1-feed" }), 200)
      // the join's committed step reaches the view through the change feed
      yield* eventually(Effect.flatMap(ask(), () => Effect.flatMap(answers(api), (a) => (a.view > 0 ? Effect.void : Effect.fail(a)))))

      const before = yield* answers(api)
      for (let i = 0; i < 50; i++) assert.strictEqual(yield* ask(), gateway)
      const after = yield* answers(api)
      assert.strictEqual(after.view - before.view, 50, "every sticky request of a room in use answered from the view")
      assert.strictEqual(after.room, before.room)

      // the last user leaves: draining, so the next request is the room's to answer, and it keeps its gateway
      expectStatus(yield* api.post("/event", { emitter: gateway, type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", id: "u1-feed" } } }), 200)
      assert.strictEqual((yield* api.get("/admin/rooms/2171/machine")).body.state, "draining")
      yield* Effect.sleep(Duration.millis(200))
      const drained = yield* answers(api)
      assert.strictEqual(yield* ask(), gateway)
      assert.strictEqual((yield* answers(api)).room - drained.room, 1, "answered by the room's actor")
      // which acted on it: the drain is cancelled (an empty reservation now)
      assert.deepInclude((yield* api.get("/admin/rooms/2171/machine")).body, { state: "assigned", gateway, sessions: 0 })
      // and an empty reservation keeps going to the actor (its requests renew the reservation)
      const empty = yield* answers(api)
      for (let i = 0; i < 5; i++) yield* ask()
      assert.strictEqual((yield* answers(api)).room - empty.room, 5)

      // users again: from the view; after a quiet lease (2 s), the actor once, then the view again
      expectStatus(yield* api.put("/users/u2", { room: 2171, janus: gateway, session: 2, rfid: "u2-feed" }), 200)
      yield* eventually(Effect.flatMap(ask(), () => Effect.flatMap(answers(api), (a) => (a.view > after.view ? Effect.void : Effect.fail(a)))))
      yield* Effect.sleep(Duration.millis(2_500))
      const quiet = yield* answers(api)
      yield* ask()
      yield* ask()
      const refreshed = yield* answers(api)
      assert.deepStrictEqual([refreshed.room - quiet.room, refreshed.view - quiet.view], [1, 1], "an expired entry is confirmed by the actor's answer")

      // a stall longer than a second (a long GC, a frozen VM): nothing the view held is trusted
      yield* stall(1_500)
      const stalled = yield* answers(api)
      assert.strictEqual(yield* ask(), gateway)
      assert.strictEqual((yield* answers(api)).room - stalled.room, 1, "after a stall the actor answers")
    }).pipe(Effect.scoped), 120_000)
})
