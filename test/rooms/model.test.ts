// Model-based tests: the paths come from the room machine itself
// (machines/paths.ts, xstate/graph over `roomMachine`), one per transition
// the machine can take, and each runs on the real Room entity and database.
// The rooms read a TestClock kept in step with the events' times, so timers
// fire when the path says, without sleeping. After each step the test checks
// what the room reports, its assignment row, its history rows (against the
// pure interpreter's) and its pending deadline.
import { assert, describe, it, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Schedule } from "effect"
import { gatewayNames, type Move, movesOf } from "../../machines/pathRun.ts"
import { type LifecyclePath, lifecyclePaths } from "../../machines/paths.ts"
import { configuredMachine, nextStateTimer, type RoomSnapshot } from "../../machines/step.ts"
import { Rooms } from "../../src/rooms/roomClient.ts"
import { backend, freshDatabase } from "../support/database.ts"
import { assignmentOf, query, RoomClock, roomsOn, transitionsOf } from "../support/rooms.ts"
import { closeRows, join, sessionRow } from "../support/sessions.ts"

const delays = { drainGrace: 30_000, assignmentTtl: 120_000 }
const machine = configuredMachine(delays)
const { paths, coverage } = lifecyclePaths(delays)

const RoomsOnFreshDatabase = Layer.unwrap(Effect.map(freshDatabase, (db) =>
  roomsOn(db, { DRAIN_GRACE: "30s", ASSIGNMENT_TTL: "2m" }, { testClock: true })))

let nextRoom = 1
const newRoom = Effect.gen(function*() {
  const room = `model-${nextRoom++}`
  yield* query(`INSERT INTO rooms (room, name, join_code) VALUES ($1, $2, $3)`, room, `Model ${room}`, `M${String(nextRoom).padStart(5, "0")}`)
  return room
})

const setGateways = (enabled: boolean) => query(`UPDATE gateways SET enabled = $1`, enabled)

/** Runs `action` while no gateway can take a room (the balancer fails). */
const withoutGateways = <A, E, R>(action: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(setGateways(false), () => action, () => Effect.orDie(setGateways(true)))

const runPath = (path: LifecyclePath) =>
  Effect.gen(function*() {
    const rooms = yield* Rooms
    const clock = yield* RoomClock
    const room = yield* newRoom
    const t0 = clock.currentTimeMillisUnsafe()
    // the room is resident (loaded, as nothing) before the path starts
    yield* rooms.status(room)
    const users = new Map<string, string>() // model session → real session id
    const gateways = gatewayNames() // model gateway → real gateway
    const real = gateways.real
    const user = (session: string) => `${room}-${session}`
    let logged = 0

    // The sessions table made to hold exactly `sessions` (model ids), without telling the room.
    const holdSessions = (sessions: ReadonlyArray<{ session: string; gateway: string }>) =>
      Effect.gen(function*() {
        for (const [session] of users) {
          if (!sessions.some((s) => s.session === session)) {
            yield* closeRows(room, user(session))
            users.delete(session)
          }
        }
        for (const s of sessions) if (!users.has(s.session)) users.set(s.session, yield* sessionRow(room, user(s.session), real(s.gateway)))
      })

    // A room stored mid-assignment (written by an older version, or before a crash), then loaded.
    const interrupted = (assigning: RoomSnapshot) =>
      Effect.gen(function*() {
        const seq = (yield* transitionsOf(room)).length
        const context = { ...assigning.context, sessions: assigning.context.sessions.map((s) => users.get(s) ?? s) }
        const snapshot = { state: "assigning", context, timers: {}, seq }
        yield* query(
          `INSERT INTO room_snapshots (room_id, seq, state, snapshot) SELECT id, $2, 'assigning', $3::jsonb FROM rooms WHERE room = $1
           ON CONFLICT (room_id) DO UPDATE SET seq = EXCLUDED.seq, state = EXCLUDED.state, snapshot = EXCLUDED.snapshot, deadline_at = NULL`,
          room, seq, JSON.stringify(snapshot)
        )
        yield* query(`DELETE FROM room_server_assignments WHERE room_id = (SELECT id FROM rooms WHERE room = $1)`, room)
        return yield* rooms.reload(room)
      })

    // The real action for the move's event, and for an assignment the balancer's answer with it.
    const act = (move: Move) =>
      Effect.gen(function*() {
        const event = move.event
        const balance = <A, E, R>(action: Effect.Effect<A, E, R>) => (move.answer === "BALANCER.FAILED" ? withoutGateways(action) : action)
        switch (event.type) {
          case "SERVER.REQUESTED":
            return yield* balance(Effect.result(rooms.requestServer(room, event.country)))
          case "GATEWAY.DOWN":
            return yield* balance(rooms.gatewayDown(room, real(event.gateway)))
          case "RELEASE.REQUESTED":
            return yield* rooms.releaseAssignment(room)
          case "REASSIGN.REQUESTED":
            return yield* balance(rooms.reassign(room, event.gateway === undefined ? undefined : real(event.gateway)))
          case "SESSION.JOINED":
            if (users.has(event.session)) return yield* rooms.changeSession(room, "joined", users.get(event.session)!, real(event.gateway))
            return yield* Effect.tap(join(room, user(event.session), real(event.gateway)), (j) => Effect.sync(() => users.set(event.session, j.session)))
          case "SESSION.UPDATED": {
            const id = users.get(event.session) ?? (yield* sessionRow(room, user(event.session), real(event.gateway)))
            users.set(event.session, id)
            return yield* rooms.changeSession(room, "updated", id, real(event.gateway))
          }
          case "SESSION.LEFT": {
            const rows = users.has(event.session) ? yield* closeRows(room, user(event.session)) : [{ id: "999999999", gateway: "gxy1" }]
            users.delete(event.session)
            for (const row of rows) yield* rooms.changeSession(room, "left", row.id, row.gateway)
            return
          }
          case "SESSIONS.SYNCED":
            yield* holdSessions(event.sessions)
            return yield* rooms.syncSessions(room)
          case "ROOM.LOADED": {
            yield* holdSessions(event.sessions)
            const assignment = event.assignment
            if (assignment === null) yield* query(`DELETE FROM room_server_assignments WHERE room_id = (SELECT id FROM rooms WHERE room = $1)`, room)
            else {
              yield* query(
                `INSERT INTO room_server_assignments (room_id, gateway_name, region, users) SELECT id, $2, $3, $4 FROM rooms WHERE room = $1
                 ON CONFLICT (room_id) DO UPDATE SET gateway_name = EXCLUDED.gateway_name, region = EXCLUDED.region`,
                room, real(assignment.gateway), assignment.region, event.sessions.length
              )
            }
            return yield* balance(rooms.reload(room))
          }
          default:
            // a timer: the clock is at its deadline; the room's own timer fires it
            return yield* rooms.status(room).pipe(
              Effect.flatMap((s) => (s.seq === move.snapshot.seq ? Effect.succeed(s) : Effect.fail(s))),
              Effect.retry({ schedule: Schedule.spaced(Duration.millis(10)), times: 300 })
            )
        }
      })

    for (const move of movesOf(machine, path, room, t0)) {
      const label = `after ${move.label}`
      // the real room takes the whole move at the time of its last event
      yield* clock.setTime(move.at)
      if (move.storedMidAssignment) {
        yield* (move.answer === "BALANCER.FAILED" ? withoutGateways(interrupted(move.assigning)) : interrupted(move.assigning))
      } else {
        yield* act(move)
      }
      const model = move.state
      const status = yield* rooms.status(room)
      assert.strictEqual(status.state, model.value, label)
      assert.strictEqual(status.sessions, model.context.sessions.length, `${label}: sessions`)
      assert.strictEqual(status.gateway === null, model.context.gateway === null, `${label}: gateway`)
      if (model.context.gateway !== null) {
        // the balancer chose for real: its choice stands for the model's
        gateways.learn(move, status.gateway!)
        assert.strictEqual(status.gateway, real(model.context.gateway), `${label}: the same gateway`)
      }
      const assignment = yield* assignmentOf(room)
      if (model.value === "assigned" || model.value === "draining") {
        assert.strictEqual(assignment?.gateway_name, status.gateway, `${label}: assignment row`)
      } else {
        assert.isUndefined(assignment, `${label}: no assignment row`)
      }
      const history = yield* transitionsOf(room)
      const appended = history.slice(logged).map((t) => ({ from: t.from_state, event: t.event, to: t.to_state, sessions: t.sessions }))
      assert.deepStrictEqual(appended, move.history.map((r) => ({ from: r.from, event: r.event, to: r.to, sessions: r.sessions })), `${label}: history rows`)
      logged = history.length
      // the deadline a room shows: its next timer that can change its state
      const timer = nextStateTimer(move.snapshot)
      assert.strictEqual(status.deadline, timer === undefined ? null : timer.at, `${label}: pending deadline`)
    }
  })

describe(`runtime and interpreter agree with the machine along every path (${backend})`, () => {
  it("covers every transition of the machine", () => {
    assert.deepStrictEqual(coverage.missing, [])
    assert.strictEqual(coverage.covered, coverage.total)
    assert.strictEqual(paths.length, 119, "a changed machine changes its paths: check them, then this count")
    console.log(`model-based lifecycle: ${paths.length} paths, ${coverage.covered}/${coverage.total} transitions (100%)`)
  })

  layer(RoomsOnFreshDatabase, { excludeTestServices: true, timeout: 120_000 })((it) => {
    for (const path of paths) {
      it.effect(path.description, () => runPath(path))
    }
  })
})
