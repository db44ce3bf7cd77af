// What an operator's release and reassign do to a room (SPEC §5's admin
// routes: release empty rooms only; reassign "moved by the room's machine as
// a failover is", or to the gateway the operator names), with the expected
// snapshot and effects written out.
import { assert, describe, it } from "@effect/vitest"
import type { RoomState } from "../../machines/room.machine.ts"
import { type RoomEffect, step } from "../../machines/step.ts"
import {
  assignedEmpty, assignedWithA, assigning, cancel, draining, type Input, join, machine, persisted, released, roomAfter, schedule,
  second, ttlTimer, write
} from "./given.ts"

const release = { type: "RELEASE.REQUESTED" } as const
const reassign = (gateway?: string) => (gateway === undefined ? { type: "REASSIGN.REQUESTED" } as const : { type: "REASSIGN.REQUESTED", gateway } as const)

const releasedByAdmin = released("released by admin")

/** Moved by the operator to gxy7 at once: a new reservation there, a full ASSIGNMENT_TTL from the move. */
const movedToGxy7 = (seq: number, users: number, at: number): ReadonlyArray<RoomEffect> => [
  persisted(seq, "assigned", "REASSIGN.REQUESTED", "assigned", "gxy7", users),
  cancel(ttlTimer),
  write("gxy7", "IL", users),
  { _tag: "Log", line: { level: "info", message: "Moved room to another gateway", reason: "requested by admin" }, gateway: "gxy5" },
  schedule(ttlTimer, at + 120_000)
]

interface Case {
  readonly name: string
  readonly given: ReadonlyArray<Input>
  readonly send: Input
  readonly state: RoomState
  readonly gateway: string | null
  readonly region: string | null
  readonly avoid: string | null
  readonly sessions: ReadonlyArray<string>
  readonly effects: ReadonlyArray<RoomEffect>
}

const cases: ReadonlyArray<Case> = [
  {
    name: "assigned and empty (a reservation nobody uses) + RELEASE.REQUESTED → idle: the assignment is released",
    given: assignedEmpty, send: release, state: "idle", gateway: null, region: null, avoid: null, sessions: [],
    effects: [persisted(3, "assigned", "RELEASE.REQUESTED", "idle", "gxy5", 0), cancel(ttlTimer), ...releasedByAdmin]
  },
  {
    name: "draining + RELEASE.REQUESTED → idle at once, without waiting out the grace",
    given: draining, send: release, state: "idle", gateway: null, region: null, avoid: null, sessions: [],
    effects: [
      persisted(5, "draining", "RELEASE.REQUESTED", "idle", "gxy5", 0),
      { _tag: "Cancel", id: "xstate.after.drainGrace.room.draining" },
      ...releasedByAdmin
    ]
  },
  {
    name: "assigned + REASSIGN.REQUESTED naming no gateway → assigning, as a failover: avoiding its gateway, keeping region and users",
    given: assignedWithA, send: reassign(), state: "assigning", gateway: "gxy5", region: "IL", avoid: "gxy5", sessions: ["a"],
    effects: [
      persisted(4, "assigned", "REASSIGN.REQUESTED", "assigning", "gxy5", 1),
      cancel(ttlTimer),
      { _tag: "SelectGateway", request: { country: "IL", region: "IL", avoid: "gxy5", users: 1 } }
    ]
  },
  {
    name: "assigned + REASSIGN.REQUESTED naming gxy7 → assigned on gxy7 at once, same region and users, a new reservation",
    given: assignedWithA, send: reassign("gxy7"), state: "assigned", gateway: "gxy7", region: "IL", avoid: null, sessions: ["a"],
    effects: movedToGxy7(4, 1, 1_004_000)
  },
  {
    name: "an empty reservation moved to gxy7 gets a full ASSIGNMENT_TTL there",
    given: assignedEmpty, send: reassign("gxy7"), state: "assigned", gateway: "gxy7", region: "IL", avoid: null, sessions: [],
    effects: movedToGxy7(3, 0, 1_003_000)
  }
]

describe("admin: release and reassign", () => {
  for (const c of cases) {
    it(c.name, () => {
      const { snapshot, effects } = step(machine, roomAfter(c.given), c.send, second(c.given.length + 1))
      assert.strictEqual(snapshot.state, c.state)
      assert.deepInclude(snapshot.context, { gateway: c.gateway, region: c.region, avoid: c.avoid })
      assert.deepStrictEqual(snapshot.context.sessions, c.sessions)
      assert.deepStrictEqual(effects, c.effects)
    })
  }

  it("the moved room answers requests with its new gateway, and the balancer's answer to a targetless reassign places it", () => {
    const moved = step(machine, roomAfter(assignedWithA), reassign("gxy7"), second(4)).snapshot
    const again = step(machine, moved, join("b", "gxy7"), second(5))
    assert.deepInclude(again.snapshot.context, { gateway: "gxy7", sessions: ["a", "b"] })
    assert.deepStrictEqual(again.effects, [persisted(5, "assigned", "SESSION.JOINED", "assigned", "gxy7", 2), write("gxy7", "IL", 2)])
    const choosing = step(machine, roomAfter(assignedWithA), reassign(), second(4)).snapshot
    const placedElsewhere = step(machine, choosing, { type: "BALANCER.DONE", gateway: "gxy2", region: "IL" }, second(5))
    assert.strictEqual(placedElsewhere.snapshot.state, "assigned")
    assert.deepInclude(placedElsewhere.snapshot.context, { gateway: "gxy2", region: "IL", avoid: null, sessions: ["a"] })
  })
})

// Refusals are the machine's: it takes no step, and the route answers from
// what the room then reports (409 with users in it, 404 with no assignment).
const ignored: ReadonlyArray<{ readonly state: RoomState; readonly given: ReadonlyArray<Input>; readonly why: string; readonly send: Input }> = [
  { state: "assigned", given: assignedWithA, why: "a room in use keeps its assignment", send: release },
  { state: "idle", given: [], why: "no assignment to release", send: release },
  { state: "assigning", given: assigning, why: "the balancer is choosing", send: release },
  { state: "assigned", given: assignedWithA, why: "moved to the gateway it is on: nothing to do", send: reassign("gxy5") },
  { state: "idle", given: [], why: "no gateway to move off", send: reassign("gxy7") },
  { state: "idle", given: [], why: "no gateway to move off", send: reassign() },
  { state: "assigning", given: assigning, why: "the balancer is choosing", send: reassign("gxy7") },
  { state: "draining", given: draining, why: "nobody is in it: release it instead", send: reassign("gxy7") },
  { state: "draining", given: draining, why: "nobody is in it: release it instead", send: reassign() }
]

describe("admin: what the machine refuses", () => {
  for (const e of ignored) {
    const target = "gateway" in e.send ? `(${e.send.gateway})` : ""
    it(`${e.state} ignores ${e.send.type}${target}: ${e.why}`, () => {
      const before = roomAfter(e.given)
      assert.strictEqual(before.state, e.state)
      const { snapshot, effects } = step(machine, before, e.send, second(e.given.length + 1))
      assert.deepStrictEqual(effects, [])
      assert.deepStrictEqual(snapshot, before)
    })
  }
})
