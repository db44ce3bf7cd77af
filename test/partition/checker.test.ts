// The partition checker on small written-out histories: what it must flag
// and what a room's own history explains.
import { assert, describe, it } from "@effect/vitest"
import { type Check, check } from "./checker.ts"
import type { Call, Facts, Transition } from "./history.ts"

// two gateways of 20 users, rooms counted at least 10
const rules = { gateways: ["gxy1", "gxy2"], capacity: 20, averageOccupancy: 10, moveLease: 250 }

let clock = 1_000
const row = (room: string, seq: number, from: string, event: string, to: string, gateway: string | null, sessions: number): Transition =>
  ({ room, seq, from, event, to, gateway, sessions, committed: clock += 10 })

const placed = (room: string, seq: number, gateway: string, sessions = 0) => [
  row(room, seq, "idle", "SERVER.REQUESTED", "assigning", null, sessions),
  row(room, seq + 1, "assigning", "BALANCER.DONE", "assigned", gateway, sessions)
]

const facts = (transitions: ReadonlyArray<Transition>): Facts => {
  const rooms = [...new Set(transitions.map((t) => t.room))].map((room) => {
    const last = transitions.filter((t) => t.room === room).at(-1)!
    const holds = last.to === "assigned" || last.to === "draining"
    return { room, seq: last.seq, state: last.to, gateway: last.gateway, assignment: holds ? last.gateway : null, assignmentLoad: holds ? 10 : null }
  })
  return { transitions, sessions: [], rooms, counters: {}, assignedLoads: {} }
}

const found = (
  transitions: ReadonlyArray<Transition>,
  calls: ReadonlyArray<Call> = [],
  change: (f: Facts) => Facts = (f) => f,
  drifts: ReadonlyArray<{ at: number; line: string }> = []
) => {
  const report = check({ calls, facts: change(facts(transitions)), rules, phases: [], unrecovered: [], end: clock + 1_000, drifts })
  return Object.fromEntries(Object.entries(report.counts).filter(([, n]) => n > 0)) as Partial<Record<Check, number>>
}

describe("the partition checker", () => {
  it("a history with every room within capacity has nothing to report", () => {
    assert.deepStrictEqual(found([...placed("1", 1, "gxy1"), ...placed("2", 1, "gxy2"), ...placed("3", 1, "gxy1")]), {})
  })

  it("(b) a third room on a full gateway while the other had room is an overcommit", () => {
    assert.deepStrictEqual(found([...placed("1", 1, "gxy1"), ...placed("2", 1, "gxy1"), ...placed("3", 1, "gxy1")]), { b: 1 })
  })

  it("(b) a room moved off its gateway may overflow the other: the gateway it leaves is not a place for it", () => {
    // gxy1 holds rooms 1 and 2 (20 of 20); room 3 on gxy2 is moved off it by an operator
    const moved = [
      ...placed("1", 1, "gxy1"),
      ...placed("2", 1, "gxy1"),
      ...placed("3", 1, "gxy2"),
      row("3", 3, "assigned", "REASSIGN.REQUESTED", "assigning", "gxy2", 0),
      row("3", 4, "assigning", "BALANCER.DONE", "assigned", "gxy1", 0)
    ]
    assert.deepStrictEqual(found(moved), {})
    // the same placement from idle had gxy2 to go to
    const fresh = [
      ...placed("1", 1, "gxy1"),
      ...placed("2", 1, "gxy1"),
      ...placed("3", 1, "gxy2"),
      row("3", 3, "assigned", "RELEASE.REQUESTED", "idle", "gxy2", 0),
      ...placed("3", 4, "gxy1")
    ]
    assert.deepStrictEqual(found(fresh), { b: 1 })
  })

  it("(d) a gap in a room's seqs is reported", () => {
    assert.deepStrictEqual(found([row("1", 1, "idle", "SERVER.REQUESTED", "assigning", null, 0), row("1", 3, "assigning", "BALANCER.DONE", "assigned", "gxy1", 0)]), {
      d: 1
    })
  })

  it("(f) a snapshot behind its history (a stale step written over a newer one) is reported", () => {
    const history = [...placed("1", 1, "gxy1"), row("1", 3, "assigned", "RELEASE.REQUESTED", "idle", "gxy1", 0), ...placed("1", 4, "gxy2")]
    assert.deepStrictEqual(found(history), {})
    assert.deepStrictEqual(
      found(history, [], (f) => ({ ...f, rooms: [{ room: "1", seq: 3, state: "idle", gateway: null, assignment: null, assignmentLoad: null }] })),
      { f: 1 }
    )
  })

  it("(f) counter drift the service corrected during the run is reported, one per log line", () => {
    const drift = { at: clock, line: "runner 0: Gateway load counters drifted; set to the sum of their assignments gateways=\"gxy1: counted 0, assigned 10\"" }
    assert.deepStrictEqual(found(placed("1", 1, "gxy1"), [], (f) => f, [drift, drift]), { f: 2 })
  })

  it("(b) room freed on the other gateway within the second before a placement may not have been seen by it; earlier, it was", () => {
    // gxy1 full (rooms 1, 2); room 3 leaves gxy2 (10 of 20 before); room 4 then placed on gxy1
    const freedThen = (gap: number) => {
      clock = 10_000
      const rows = [...placed("1", 1, "gxy1"), ...placed("2", 1, "gxy1"), ...placed("3", 1, "gxy2"), ...placed("5", 1, "gxy2")]
      rows.push(row("3", 3, "assigned", "RELEASE.REQUESTED", "idle", "gxy2", 0))
      clock += gap
      rows.push(...placed("4", 1, "gxy1"))
      return found(rows)
    }
    assert.deepStrictEqual(freedThen(200), {}, "freed 0.2 s before: the placement may have read the counters first")
    assert.deepStrictEqual(freedThen(3_000), { b: 1 }, "freed 3 s before: the room was there to see")
  })
})

