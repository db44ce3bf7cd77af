// Restart safety: a stopped (or SIGKILLed) runtime's rooms resume in the
// state they had, and timers that ran out while it was down fire on resume.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Schedule } from "effect"
import type { RoomStatus } from "../../src/rooms/roomProtocol.ts"
import { Rooms } from "../../src/rooms/roomClient.ts"
import { backend, envFor, freshDatabase, type FreshDatabase } from "../support/database.ts"
import { startService } from "../support/process.ts"
import { assignmentOf, databaseLayerFor, prepared, query, roomsOn, transitionsOf } from "../support/rooms.ts"
import { collectLogs } from "../support/service.ts"
import type { DriverStep } from "../support/roomDriver.ts"
import { join, leave } from "../support/sessions.ts"

const inRuntime = <A, E>(db: FreshDatabase, env: Record<string, string>, body: Effect.Effect<A, E, Layer.Success<ReturnType<typeof roomsOn>>>) =>
  Effect.scoped(Effect.provide(body, roomsOn(db, env)))

const keep = (s: RoomStatus) => ({ state: s.state, gateway: s.gateway, sessions: s.sessions, seq: s.seq })

const eventually = <A, E, R>(check: Effect.Effect<A, E, R>) =>
  Effect.retry(check, { schedule: Schedule.spaced(Duration.millis(100)), times: 100 })

describe(`room restarts (${backend})`, () => {
  it.live("a stopped runtime's rooms resume in the same state with the same gateway", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      const env = { DRAIN_GRACE: "1m", ASSIGNMENT_TTL: "1m" }
      const before = yield* inRuntime(db, env, Effect.gen(function*() {
        const rooms = yield* Rooms
        const { gateway: g } = yield* rooms.requestServer("2171")
        yield* join("2171", "a", g)
        yield* join("2171", "b", g)
        const { gateway: h } = yield* rooms.requestServer("2172")
        yield* join("2172", "c", h)
        yield* leave("2172", "c")
        yield* rooms.requestServer("2173")
        return yield* Effect.forEach(["2171", "2172", "2173"], rooms.status)
      }))
      assert.deepStrictEqual(before.map((s) => s.state), ["assigned", "draining", "assigned"])

      const after = yield* inRuntime(db, env, Effect.gen(function*() {
        const rooms = yield* Rooms
        const statuses = yield* Effect.forEach(["2171", "2172", "2173"], rooms.status)
        // the resumed room still counts its users: the last one leaving drains it
        yield* leave("2171", "a")
        const left = yield* leave("2171", "b")
        assert.strictEqual(left.state, "draining")
        return statuses
      }))
      assert.deepStrictEqual(after.map(keep), before.map(keep))
      assert.deepStrictEqual(after.map((s) => s.deadline), before.map((s) => s.deadline), "timers keep their deadlines")
    }).pipe(Effect.scoped))

  it.live("a draining room whose grace ran out while the runtime was down is idle on resume, its assignment gone", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      const env = { DRAIN_GRACE: "1500ms" }
      const drained = yield* inRuntime(db, env, Effect.gen(function*() {
        const rooms = yield* Rooms
        const { gateway: g } = yield* rooms.requestServer("2174")
        yield* join("2174", "a", g)
        return yield* leave("2174", "a")
      }))
      assert.strictEqual(drained.state, "draining")
      // Stopped before the grace ran out: the assignment is still there.
      assert.isDefined(yield* Effect.provide(assignmentOf("2174"), databaseLayerFor(db)).pipe(Effect.scoped))
      yield* Effect.sleep(Duration.millis(Math.max(0, drained.deadline! - Date.now()) + 200))

      yield* inRuntime(db, env, Effect.gen(function*() {
        // No message to the room: the deadline sweep wakes it.
        yield* eventually(Effect.flatMap(assignmentOf("2174"), (a) => a === undefined ? Effect.void : Effect.fail("still assigned")))
        const status = yield* (yield* Rooms).status("2174")
        assert.strictEqual(status.state, "idle")
        assert.strictEqual(status.gateway, null)
        const last = (yield* transitionsOf("2174")).at(-1)!
        assert.deepInclude(last, { from_state: "draining", event: "after drainGrace", to_state: "idle" })
      }))
    }).pipe(Effect.scoped))

  it.live("after SIGKILL every room resumes; a grace that ran out while down has released its room", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      yield* Layer.build(prepared(databaseLayerFor(db))).pipe(Effect.scoped)
      const steps: ReadonlyArray<DriverStep> = [
        { room: "2171", op: "request" },
        { room: "2171", op: "joined", session: "a", gateway: "gxy1" },
        { room: "2171", op: "joined", session: "b", gateway: "gxy1" },
        { room: "2175", op: "joined", session: "c", gateway: "gxy9" },
        { room: "2175", op: "left", session: "c", gateway: "gxy9" },
        { room: "2176", op: "request" }
      ]
      const env = { ...envFor(db), DRAIN_GRACE: "1500ms", ASSIGNMENT_TTL: "10m", LOG_LEVEL: "warn" }
      const child = startService(env, "test/support/roomDriver.ts", [JSON.stringify(steps)])
      const lines = yield* Effect.promise(() =>
        new Promise<string>((resolve, reject) => {
          child.child.stdout!.on("data", () => {
            if (child.output().includes("READY")) resolve(child.output())
          })
          void child.exited.then(() => reject(new Error(`driver exited early:\n${child.output()}`)))
        })
      )
      const before = JSON.parse(lines.split("\n").find((l) => l.startsWith("["))!) as Array<RoomStatus>
      assert.deepStrictEqual(before.map((s) => s.state), ["assigned", "draining", "assigned"])
      child.child.kill("SIGKILL")
      assert.strictEqual(yield* Effect.promise(() => child.exited), "SIGKILL")
      yield* Effect.sleep(Duration.millis(1_600))

      yield* inRuntime(db, { DRAIN_GRACE: "1500ms", ASSIGNMENT_TTL: "10m" }, Effect.gen(function*() {
        const rooms = yield* Rooms
        const [kept, released, reserved] = yield* Effect.forEach(["2171", "2175", "2176"], rooms.status)
        assert.deepStrictEqual(keep(kept!), keep(before[0]!))
        assert.deepStrictEqual(keep(reserved!), keep(before[2]!))
        assert.strictEqual(released!.state, "idle")
        assert.isUndefined(yield* assignmentOf("2175"))
        assert.strictEqual((yield* assignmentOf("2171"))?.gateway_name, before[0]!.gateway)
      }))
    }).pipe(Effect.scoped))
})

describe(`rooms whose stored state is wrong (${backend})`, () => {
  it.live("an unreadable snapshot is rebuilt from the room's assignment and live sessions, and logged", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      const env = { DRAIN_GRACE: "1m", ASSIGNMENT_TTL: "1m" }
      const before = yield* inRuntime(db, env, Effect.gen(function*() {
        const { gateway: g } = yield* (yield* Rooms).requestServer("2171")
        yield* join("2171", "a", g)
        return yield* join("2171", "b", g)
      }))
      yield* Effect.provide(query(`UPDATE room_snapshots SET snapshot = '{"state": 42}'::jsonb`), databaseLayerFor(db)).pipe(Effect.scoped)
      const logs = collectLogs()
      const after = yield* Effect.scoped(Effect.provide(
        Effect.gen(function*() {
          return yield* (yield* Rooms).status("2171")
        }),
        roomsOn(db, env, { logger: logs.logger })
      ))
      assert.deepInclude(after, { state: "assigned", gateway: before.status.gateway, sessions: 2 })
      assert.isDefined(logs.lines.find((l) => l.includes("Room snapshot unreadable") && l.includes("room_id=2171")))
    }).pipe(Effect.scoped))

  it.live("a room written by another owner meanwhile (this process was frozen) drops its step: 503, nothing overwritten, then it reloads", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      const logs = collectLogs()
      yield* Effect.scoped(Effect.provide(
        Effect.gen(function*() {
          const rooms = yield* Rooms
          const { gateway: g } = yield* rooms.requestServer("2171")
          yield* join("2171", "a", g)
          const moved = g === "gxy1" ? "gxy2" : "gxy1"
          // what the room's new owner wrote while this process did not run: the room moved
          yield* query(`UPDATE room_server_assignments SET gateway_name = $1`, moved)
          yield* query(
            `UPDATE room_snapshots SET version = version + 1, snapshot = jsonb_set(snapshot, '{context,gateway}', to_jsonb($1::text))`,
            moved
          )
          const refused = yield* Effect.flip(join("2171", "b", g))
          assert.strictEqual(refused._tag, "RoomUnavailable")
          assert.match(refused.message, /changed in another process/)
          assert.deepInclude(yield* assignmentOf("2171"), { gateway_name: moved }, "the stale step wrote nothing")
          assert.deepInclude(yield* rooms.status("2171"), { state: "assigned", gateway: moved }, "reloaded as stored")
          assert.strictEqual((yield* rooms.requestServer("2171")).gateway, moved)
        }),
        roomsOn(db, { DRAIN_GRACE: "1m", ASSIGNMENT_TTL: "1m" }, { logger: logs.logger })
      ))
      assert.isDefined(logs.lines.find((l) => l.includes("Room changed elsewhere") && l.includes("room_id=2171")))
    }).pipe(Effect.scoped))
})
