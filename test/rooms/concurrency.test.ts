import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Ref } from "effect"
import { Placement } from "../../src/rooms/placement.ts"
import { Rooms } from "../../src/rooms/roomClient.ts"
import { backend, freshDatabase } from "../support/database.ts"
import { assignmentOf, PlacementCalls, roomsOn, transitionsOf } from "../support/rooms.ts"

const withRooms = <A, E, R>(body: Effect.Effect<A, E, R>, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const db = yield* freshDatabase
    return yield* body.pipe(Effect.provide(roomsOn(db, env)))
  }).pipe(Effect.scoped)

describe(`room concurrency (${backend})`, () => {
  it.live("100 concurrent first requests for one room: one balancer run, one answer, one assignment", () =>
    withRooms(Effect.gen(function*() {
      const rooms = yield* Rooms
      const answers = yield* Effect.forEach(
        Array.from({ length: 100 }, (_, i) => i),
        (i) => Effect.map(rooms.requestServer("2171", i % 2 === 0 ? "IL" : "US"), (a) => a.gateway),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(answers).size, 1, `answers: ${[...new Set(answers)]}`)
      const calls = yield* Ref.get(yield* PlacementCalls)
      assert.deepStrictEqual(calls, ["2171"])
      const transitions = yield* transitionsOf("2171")
      assert.deepStrictEqual(
        transitions.map((t) => [t.from_state, t.to_state]),
        [["idle", "assigning"], ["assigning", "assigned"]]
      )
      assert.strictEqual(transitions[1]!.gateway_name, answers[0])
      assert.strictEqual((yield* assignmentOf("2171"))?.gateway_name, answers[0])
    })))

  it.live("a storm of interleaved joins and leaves ends with joins minus leaves sessions", () =>
    withRooms(Effect.gen(function*() {
      const rooms = yield* Rooms
      const { gateway } = yield* rooms.requestServer("2172")
      // 60 sessions: each joins, and two thirds of them leave again, all interleaved.
      yield* Effect.forEach(
        Array.from({ length: 60 }, (_, i) => `s${i}`),
        (session, i) =>
          rooms.changeSession("2172", "joined", session, gateway).pipe(
            Effect.andThen(rooms.changeSession("2172", "updated", session, gateway)),
            Effect.andThen(i % 3 === 0 ? Effect.void : rooms.changeSession("2172", "left", session, gateway))
          ),
        { concurrency: "unbounded", discard: true }
      )
      const status = yield* rooms.status("2172")
      assert.strictEqual(status.sessions, 20)
      assert.strictEqual(status.state, "assigned")
      assert.strictEqual((yield* assignmentOf("2172"))?.gateway_name, gateway)

      yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => `s${i * 3}`),
        (session) => rooms.changeSession("2172", "left", session, gateway),
        { concurrency: "unbounded", discard: true }
      )
      const drained = yield* rooms.status("2172")
      assert.strictEqual(drained.sessions, 0)
      assert.strictEqual(drained.state, "draining")
    })))
})


describe(`room call deadline (${backend})`, () => {
  it.live("a room that does not answer in time is reported unavailable, not waited on", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      const stuck = Layer.effect(Placement, Effect.gen(function*() {
        const real = yield* Placement
        return { ...real, candidates: () => Effect.never }
      })).pipe(Layer.provide(Placement.layer))
      yield* Effect.gen(function*() {
        const error = yield* Effect.flip((yield* Rooms).requestServer("2171"))
        assert.strictEqual(error._tag, "RoomUnavailable")
        assert.strictEqual(error.message, "room 2171 did not answer within 300ms")
      }).pipe(Effect.provide(roomsOn(db, {}, { placement: stuck, rooms: Rooms.layerWithTimeout(Duration.millis(300)) })))
    }).pipe(Effect.scoped))
})
