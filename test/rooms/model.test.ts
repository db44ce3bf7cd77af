// Model-based tests: every shortest and every simple path of the abstract
// room model becomes one test that drives the real Room entity on the real
// database and checks, after each step, what the entity reports, its
// transition log and its assignment row.
import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Schedule } from "effect"
import { createTestModel } from "xstate/graph"
import { Rooms } from "../../src/rooms/rooms.ts"
import { backend, freshDatabase } from "../support/database.ts"
import { assignmentOf, query, roomsOn, transitionsOf } from "../support/rooms.ts"
import { entityState, type ModelEvent, roomModel } from "./roomModel.ts"

const model = createTestModel(roomModel)
const shortest = model.getShortestPaths()
const simple = model.getSimplePaths()

const RoomsOnFreshDatabase = Layer.unwrap(Effect.map(freshDatabase, (db) => roomsOn(db)))

let nextRoom = 9000
const newRoom = Effect.gen(function*() {
  const room = nextRoom++
  yield* query(`INSERT INTO rooms (room, name, join_code) VALUES ($1, $2, $3)`, room, `Model ${room}`, `M${room}0`.slice(0, 6))
  return room
})

/** The gateway users join on when nobody told them one (the balancer would pick gxy1 first). */
const usersGateway = "gxy7"

const waitForState = (room: number, state: string) =>
  Effect.gen(function*() {
    const rooms = yield* Rooms
    return yield* rooms.status(room).pipe(
      Effect.flatMap((s) => s.state === state ? Effect.succeed(s) : Effect.fail(s)),
      Effect.retry({ schedule: Schedule.spaced(Duration.millis(50)), times: 100 })
    )
  })

const runPath = (steps: ReadonlyArray<{ event: ModelEvent; state: { value: unknown; context: { users: number } } }>) =>
  Effect.gen(function*() {
    const rooms = yield* Rooms
    const room = yield* newRoom
    let users: Array<string> = []
    let gateway: string | null = null
    let logged = 0
    for (const { event, state } of steps) {
      const before = yield* rooms.status(room)
      const expected = entityState(String(state.value))
      switch (event.type) {
        case "REQUEST": {
          const answer = yield* rooms.requestServer(room)
          if (before.gateway !== null) assert.strictEqual(answer, before.gateway, "a room in use keeps its gateway")
          gateway = answer
          break
        }
        case "REQUEST_WITHOUT_GATEWAYS": {
          yield* query(`UPDATE gateways SET enabled = false`)
          const refused = yield* Effect.flip(rooms.requestServer(room))
          yield* query(`UPDATE gateways SET enabled = true`)
          assert.strictEqual(refused._tag, "NoGatewayAvailable")
          break
        }
        case "JOIN": {
          const session = `user-${room}-${users.length}-${Date.now()}`
          users = [...users, session]
          yield* rooms.changeSession(room, "joined", session, gateway ?? usersGateway)
          gateway = gateway ?? usersGateway
          break
        }
        case "LEAVE": {
          const session = users.at(-1)!
          users = users.slice(0, -1)
          yield* rooms.changeSession(room, "left", session, gateway!)
          break
        }
        case "GATEWAY_DOWN": {
          const after = yield* rooms.gatewayDown(room, gateway!)
          if (after.state === "assigned") assert.notStrictEqual(after.gateway, gateway, "moved off the gateway that went down")
          break
        }
        case "TTL_EXPIRES":
        case "GRACE_ELAPSES":
          yield* waitForState(room, "idle")
          break
      }
      const status = yield* rooms.status(room)
      const label = `after ${event.type} (model: ${String(state.value)})`
      assert.strictEqual(status.state, expected, label)
      assert.strictEqual(status.sessions, state.context.users, `${label}: sessions`)
      if (expected === "idle") gateway = null
      else gateway = status.gateway

      const assignment = yield* assignmentOf(room)
      if (expected === "assigned" || expected === "draining") {
        assert.strictEqual(assignment?.gateway_name, status.gateway, `${label}: assignment row`)
      } else {
        assert.isUndefined(assignment, `${label}: no assignment row`)
      }

      const log = yield* transitionsOf(room)
      assert.deepStrictEqual(log.map((t) => t.seq), log.map((_, i) => i + 1), `${label}: seq without gaps`)
      assert.strictEqual(status.seq, log.length)
      const moved = before.state !== status.state || before.gateway !== status.gateway
      if (moved) {
        assert.isAbove(log.length, logged, `${label}: a transition row`)
        assert.strictEqual(log.at(-1)!.to_state, status.state, `${label}: last row's state`)
      } else {
        assert.strictEqual(log.length, logged, `${label}: no transition row`)
      }
      logged = log.length
    }
  })

describe(`room lifecycle, model-based (${backend})`, () => {
  layer(RoomsOnFreshDatabase, { excludeTestServices: true, timeout: 60_000 })((it) => {
    for (const [kind, paths] of [["shortest", shortest], ["simple", simple]] as const) {
      for (const path of paths) {
        it.effect(`${kind}: ${path.description}`, () => runPath(path.steps as never))
      }
    }
  })
})
