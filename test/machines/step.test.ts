// The interpreter's own promises (README, "The one interpreter"): timers are
// stored deadlines, a step is stored only when something changed, history
// rows name timers as `after <delay>`, and the configured delays are the
// ones the room runs on.
import { assert, describe, it } from "@effect/vitest"
import { initialRoomContext, mostUsedGateway, roomMachine, roomStates } from "../../machines/room.machine.ts"
import {
  answersStickyAlone, configuredMachine, dueTimers, eventLabel, hearsKeepalives, newSnapshot, nextStateTimer, nextTimer, type RoomSnapshot, step
} from "../../machines/step.ts"
import {
  assignedEmpty, assignedWithA, cancel, draining, graceTimer, join, machine, persisted, placed, requested, roomAfter, schedule,
  second, stored, touch, ttlTimer, write
} from "./given.ts"

describe("room snapshots", () => {
  it("a new room is idle, with no gateway, no sessions, no timers and no history", () => {
    assert.deepStrictEqual(newSnapshot(machine, "2171"), {
      state: "idle",
      context: { room: "2171", gateway: null, region: null, country: null, sessions: [], avoid: null, renewedAt: 0, touchedAt: 0, since: 0, peak: 0, expected: 0, spread: 0, placedAt: 0 },
      timers: {},
      seq: 0
    })
    assert.deepStrictEqual(initialRoomContext("7").room, "7")
    assert.deepStrictEqual(roomStates, ["idle", "assigning", "assigned", "draining"])
  })

  it("keeps each pending timer as a deadline, by its id", () => {
    assert.deepStrictEqual(roomAfter(assignedEmpty).timers, {
      [ttlTimer.type]: { event: ttlTimer, at: 1_002_000 + 120_000 }
    })
    assert.deepStrictEqual(roomAfter(draining).timers, {
      [graceTimer.type]: { event: graceTimer, at: 1_004_000 + 30_000 }
    })
  })

  it("answers the earliest pending timer, and the timers due at a time, oldest first", () => {
    const two: RoomSnapshot = {
      ...roomAfter(assignedEmpty),
      timers: { late: { event: graceTimer, at: 2_000 }, early: { event: ttlTimer, at: 1_000 }, last: { event: ttlTimer, at: 3_000 } }
    }
    assert.deepStrictEqual(nextTimer(two), { id: "early", event: ttlTimer, at: 1_000 })
    assert.isUndefined(nextTimer(newSnapshot(machine, "2171")))
    const tied: RoomSnapshot = { ...two, timers: { first: { event: ttlTimer, at: 1_000 }, second: { event: graceTimer, at: 1_000 } } }
    assert.strictEqual(nextTimer(tied)!.id, "first")
    assert.deepStrictEqual(dueTimers(two, 999), [])
    assert.deepStrictEqual(dueTimers(two, 2_000), [{ event: ttlTimer, at: 1_000 }, { event: graceTimer, at: 2_000 }])
    assert.deepStrictEqual(dueTimers(two, 5_000).map((t) => t.at), [1_000, 2_000, 3_000])
  })

  it("shows as its deadline the earliest timer that can change its state: a young reservation settling is not one", () => {
    const settle = { type: "xstate.after.settleTime.room.assigned" } as const
    const both: RoomSnapshot = {
      ...roomAfter(assignedEmpty),
      timers: { [ttlTimer.type]: { event: ttlTimer, at: 2_000 }, [settle.type]: { event: settle, at: 1_000 } }
    }
    assert.deepStrictEqual(nextStateTimer(both), { id: ttlTimer.type, event: ttlTimer, at: 2_000 })
    assert.deepStrictEqual(nextTimer(both), { id: settle.type, event: settle, at: 1_000 }, "the room still wakes for it")
    assert.isUndefined(nextStateTimer({ timers: { [settle.type]: { event: settle, at: 1_000 } } }))
    assert.deepStrictEqual(nextStateTimer(roomAfter(draining))?.at, 1_004_000 + 30_000)
  })

  it("names a timer in the history as `after <delay>`, any other event by its type", () => {
    assert.strictEqual(eventLabel(graceTimer), "after drainGrace")
    assert.strictEqual(eventLabel(ttlTimer), "after assignmentTtl")
    assert.strictEqual(eventLabel({ type: "SESSION.JOINED" }), "SESSION.JOINED")
    assert.strictEqual(eventLabel({ type: "xstate.after.drainGrace" }), "xstate.after.drainGrace")
    assert.strictEqual(eventLabel({ type: "not.xstate.after.drainGrace.room" }), "not.xstate.after.drainGrace.room")
    assert.strictEqual(eventLabel({ type: "xstate.after..room" }), "xstate.after..room")
  })
})

describe("what a step stores", () => {
  it("a change of state, gateway or membership is a history row numbered after the last", () => {
    const joined = step(machine, roomAfter(assignedWithA), join("b"), 1_004_000)
    assert.strictEqual(joined.snapshot.seq, 4)
    assert.deepStrictEqual(joined.effects[0], persisted(4, "assigned", "SESSION.JOINED", "assigned", "gxy5", 2))
  })

  it("a change of times only is stored without a history row; no change at all is not stored", () => {
    const before = roomAfter(assignedWithA)
    const touched = step(machine, before, requested, 1_033_000)
    assert.deepStrictEqual(touched.effects, [stored, touch])
    assert.strictEqual(touched.snapshot.seq, 3)
    assert.deepStrictEqual(step(machine, before, requested, 1_032_999).effects, [])
  })

  it("a room that gets the same sessions in another order has not changed membership", () => {
    const ab = roomAfter([...assignedWithA, join("b")])
    const { effects } = step(machine, ab, { type: "SESSIONS.SYNCED", sessions: [{ session: "b", gateway: "gxy5" }, { session: "a", gateway: "gxy5" }] }, 1_005_000)
    assert.deepStrictEqual(effects, [persisted(5, "assigned", "SESSIONS.SYNCED", "assigned", "gxy5", 2), write("gxy5", "IL", 2)])
    const same = step(machine, ab, { type: "SESSIONS.SYNCED", sessions: [{ session: "a", gateway: "gxy5" }, { session: "b", gateway: "gxy5" }] }, 1_005_000)
    assert.deepStrictEqual(same.effects, [write("gxy5", "IL", 2)])
  })

  it("a fired timer is spent whatever the machine does with it, and only that timer", () => {
    const withBoth: RoomSnapshot = { ...roomAfter(assignedWithA), timers: { ...roomAfter(assignedWithA).timers, other: { event: graceTimer, at: 9 } } }
    const { snapshot, effects } = step(machine, withBoth, ttlTimer, 1_122_000)
    assert.deepStrictEqual(snapshot.timers, { other: { event: graceTimer, at: 9 } })
    assert.deepStrictEqual(effects, [stored, cancel(ttlTimer)])
  })
})

describe("configured delays", () => {
  const short = configuredMachine({ drainGrace: 1_000, assignmentTtl: 2_000 })

  it("the room runs on DRAIN_GRACE and ASSIGNMENT_TTL as configured", () => {
    assert.deepStrictEqual(roomAfter(assignedEmpty, short).timers, { [ttlTimer.type]: { event: ttlTimer, at: 1_002_000 + 2_000 } })
    assert.deepStrictEqual(roomAfter(draining, short).timers, { [graceTimer.type]: { event: graceTimer, at: 1_004_000 + 1_000 } })
  })

  it("renewals and touches are paced by a quarter of the configured ASSIGNMENT_TTL", () => {
    const reserved = roomAfter(assignedEmpty, short)
    assert.deepStrictEqual(step(short, reserved, requested, 1_002_499).effects, [])
    assert.deepStrictEqual(step(short, reserved, requested, 1_002_500).effects, [
      stored, cancel(ttlTimer), touch, schedule(ttlTimer, 1_002_500 + 2_000)
    ])
    const used = roomAfter(assignedWithA, short)
    assert.deepStrictEqual(step(short, used, requested, 1_003_499).effects, [])
    assert.deepStrictEqual(step(short, used, requested, 1_003_500).effects, [stored, touch])
  })

  it("the machine as defined, unconfigured, paces renewals and touches by SPEC's ASSIGNMENT_TTL of 2 min", () => {
    const reserved = roomAfter(assignedEmpty, roomMachine)
    assert.deepStrictEqual(step(roomMachine, reserved, requested, 1_002_000 + 29_999).effects, [])
    assert.deepStrictEqual(step(roomMachine, reserved, requested, 1_002_000 + 30_000).effects, [
      stored, cancel(ttlTimer), touch, schedule(ttlTimer, 1_032_000 + 120_000)
    ])
    const used = roomAfter(assignedWithA, roomMachine)
    assert.deepStrictEqual(step(roomMachine, used, requested, 1_003_000 + 29_999).effects, [])
    assert.deepStrictEqual(step(roomMachine, used, requested, 1_003_000 + 30_000).effects, [stored, touch])
  })

  it("without configuration, SPEC's defaults: DRAIN_GRACE 30 s, ASSIGNMENT_TTL 2 min", () => {
    const defaults = configuredMachine()
    assert.deepStrictEqual(roomAfter([requested, placed], defaults).timers[ttlTimer.type], { event: ttlTimer, at: 1_002_000 + 120_000 })
    assert.deepStrictEqual(roomAfter(draining, defaults).timers[graceTimer.type], { event: graceTimer, at: 1_004_000 + 30_000 })
  })
})

describe("where a room in use is", () => {
  it("the gateway most of its sessions are on; ties go to the one listed first", () => {
    assert.isUndefined(mostUsedGateway([]))
    assert.strictEqual(mostUsedGateway([{ session: "a", gateway: "gxy2" }]), "gxy2")
    assert.strictEqual(mostUsedGateway([{ session: "a", gateway: "gxy2" }, { session: "b", gateway: "gxy7" }, { session: "c", gateway: "gxy7" }]), "gxy7")
    assert.strictEqual(mostUsedGateway([{ session: "a", gateway: "gxy7" }, { session: "b", gateway: "gxy2" }]), "gxy7")
  })
})

describe("what the runtime may skip, as the machine says", () => {
  it("only an assigned room with users answers a request with nothing else to do (the read view may answer it)", () => {
    assert.deepStrictEqual(
      (["idle", "assigning", "assigned", "draining"] as const).flatMap((state) => [0, 1, 2].map((n) => [state, n, answersStickyAlone(state, n)])),
      [
        ["idle", 0, false], ["idle", 1, false], ["idle", 2, false],
        ["assigning", 0, false], ["assigning", 1, false], ["assigning", 2, false],
        ["assigned", 0, false], ["assigned", 1, true], ["assigned", 2, true],
        ["draining", 0, false], ["draining", 1, false], ["draining", 2, false]
      ]
    )
    // and the machine agrees: a request to such a room changes no state, gateway, sessions or timer
    const room = roomAfter(assignedWithA)
    const { snapshot } = step(machine, room, requested, second(4))
    assert.deepStrictEqual([snapshot.state, snapshot.context.gateway, snapshot.context.sessions], ["assigned", "gxy5", ["a"]])
    assert.deepStrictEqual(snapshot.timers, room.timers)
  })

  it("every room but an assigned one must hear the keepalives of the sessions it counts", () => {
    assert.deepStrictEqual(
      (["idle", "assigning", "assigned", "draining"] as const).map((state) => [state, hearsKeepalives(state)]),
      [["idle", true], ["assigning", true], ["assigned", false], ["draining", true]]
    )
    // an assigned room does nothing with a counted session's keepalive
    const room = roomAfter(assignedWithA)
    assert.deepStrictEqual(step(machine, room, { type: "SESSION.UPDATED", session: "a", gateway: "gxy5" }, second(4)).effects, [])
  })

  it("a step is stored when any part of the snapshot changed, however small, and only then", () => {
    const room = roomAfter(assignedWithA)
    // the same keepalive again: nothing changed, nothing stored
    assert.deepStrictEqual(step(machine, room, { type: "SESSION.UPDATED", session: "a", gateway: "gxy5" }, second(4)).effects, [])
    // a touch a quarter of the TTL later changes only `touchedAt`: stored, no history row
    const later = step(machine, room, requested, second(3) + 30_000)
    assert.deepStrictEqual(later.effects, [stored, touch])
    assert.strictEqual(later.snapshot.context.touchedAt, second(3) + 30_000)
    // a timer that fired and was spent is the only change: stored
    const withStaleTimer: RoomSnapshot = { ...room, timers: { [ttlTimer.type]: { event: ttlTimer, at: 5 } } }
    const fired = step(machine, withStaleTimer, ttlTimer, second(4))
    assert.deepStrictEqual(fired.effects, [stored, cancel(ttlTimer)])
    assert.deepStrictEqual(fired.snapshot.timers, {})
  })
})
