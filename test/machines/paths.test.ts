// The lifecycle paths the model-based suites run (machines/paths.ts): one per
// transition of the machine, each the shortest way to its state and then the
// transition, with events a real room can be sent at the times they say.
// A few paths are written out in full; the rest are held to what every path
// must be.
import { assert, describe, it } from "@effect/vitest"
import { coverageOf, foreignGateway, type LifecyclePath, lifecyclePaths, otherGateway, usersGateway } from "../../machines/paths.ts"
import { configuredMachine } from "../../machines/step.ts"

// Generated inside each test, not once for the file: each test then covers
// the generator itself, so mutation testing runs these tests against it.
const generated = () => lifecyclePaths({ drainGrace: 30_000, assignmentTtl: 120_000 })

/** A path as `event@at → state gateway [sessions]` lines, the event with what it carries. */
const written = (p: LifecyclePath) =>
  p.steps.map(({ event, state }) => {
    const { type, at, kind: _kind, ...payload } = event as typeof event & { kind?: string }
    const carried = Object.keys(payload).length === 0 ? "" : ` ${JSON.stringify(payload)}`
    return `${type}${carried} @${at} → ${state.value} ${state.context.gateway ?? "-"} [${state.context.sessions.join(",")}]`
  })

// Paths written out: each step's event with what it carries and its time, then the room after it.
const full: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["SERVER.REQUESTED → BALANCER.DONE", [
    `SERVER.REQUESTED {"country":"IL"} @1 → assigning - []`,
    `BALANCER.DONE {"gateway":"gxy2","region":null} @2 → assigned gxy2 []`
  ]],
  // an adopted assignment nobody uses, released after its TTL
  ["ROOM.LOADED(an assignment) → after assignmentTtl", [
    `ROOM.LOADED {"assignment":{"gateway":"gxy4","region":null},"sessions":[]} @1 → assigned gxy4 []`,
    "xstate.after.assignmentTtl.room.assigned @120001 → idle - []"
  ]],
  ["SESSION.JOINED(new) → SESSION.LEFT → after drainGrace", [
    `SESSION.JOINED {"session":"s1","gateway":"gxy7"} @1 → assigned gxy7 [s1]`,
    `SESSION.LEFT {"session":"s1"} @2 → draining gxy7 []`,
    "xstate.after.drainGrace.room.draining @30002 → idle - []"
  ]],
  // the last to join is the one to leave
  ["SESSION.JOINED(new) → SESSION.JOINED(new) → SESSION.LEFT", [
    `SESSION.JOINED {"session":"s1","gateway":"gxy7"} @1 → assigned gxy7 [s1]`,
    `SESSION.JOINED {"session":"s2","gateway":"gxy7"} @2 → assigned gxy7 [s1,s2]`,
    `SESSION.LEFT {"session":"s2"} @2 → assigned gxy7 [s1]`
  ]],
  // a request late enough to touch the assignment
  ["SESSION.JOINED(new) → SERVER.REQUESTED(later)", [
    `SESSION.JOINED {"session":"s1","gateway":"gxy7"} @1 → assigned gxy7 [s1]`,
    "SERVER.REQUESTED @30001 → assigned gxy7 [s1]"
  ]],
  // a failover that finds no gateway, then a request that finds one
  ["SESSION.JOINED(new) → GATEWAY.DOWN(its own) → BALANCER.FAILED → SERVER.REQUESTED → BALANCER.DONE", [
    `SESSION.JOINED {"session":"s1","gateway":"gxy7"} @1 → assigned gxy7 [s1]`,
    `GATEWAY.DOWN {"gateway":"gxy7"} @2 → assigning gxy7 [s1]`,
    `BALANCER.FAILED {"reason":"no gateway available"} @3 → idle - [s1]`,
    `SERVER.REQUESTED {"country":"IL"} @4 → assigning - [s1]`,
    `BALANCER.DONE {"gateway":"gxy2","region":null} @5 → assigned gxy2 [s1]`
  ]],
  // stored mid-assignment, then answered
  ["SERVER.REQUESTED → ROOM.LOADED(as stored) → BALANCER.DONE", [
    `SERVER.REQUESTED {"country":"IL"} @1 → assigning - []`,
    `ROOM.LOADED {"assignment":null,"sessions":[]} @2 → assigning - []`,
    `BALANCER.DONE {"gateway":"gxy2","region":null} @3 → assigned gxy2 []`
  ]],
  ["ROOM.LOADED(a session)", [`ROOM.LOADED {"assignment":null,"sessions":[{"session":"s1","gateway":"gxy7"}]} @1 → assigned gxy7 [s1]`]],
  ["SESSIONS.SYNCED(one)", [`SESSIONS.SYNCED {"sessions":[{"session":"s1","gateway":"gxy7"}]} @1 → assigned gxy7 [s1]`]],
  ["SESSION.UPDATED(new)", [`SESSION.UPDATED {"session":"s1","gateway":"gxy7"} @1 → assigned gxy7 [s1]`]],
  ["SESSION.LEFT(unknown)", [`SESSION.LEFT {"session":"ghost"} @1 → idle - []`]],
  // an operator's moves: to a named gateway at once, or where the balancer chooses
  ["SESSION.JOINED(new) → REASSIGN.REQUESTED(to another)", [
    `SESSION.JOINED {"session":"s1","gateway":"gxy7"} @1 → assigned gxy7 [s1]`,
    `REASSIGN.REQUESTED {"gateway":"gxy12"} @2 → assigned gxy12 [s1]`
  ]],
  ["SESSION.JOINED(new) → REASSIGN.REQUESTED → BALANCER.DONE", [
    `SESSION.JOINED {"session":"s1","gateway":"gxy7"} @1 → assigned gxy7 [s1]`,
    "REASSIGN.REQUESTED @2 → assigning gxy7 [s1]",
    `BALANCER.DONE {"gateway":"gxy2","region":null} @3 → assigned gxy2 [s1]`
  ]],
  ["SESSION.JOINED(new) → SESSION.LEFT → RELEASE.REQUESTED", [
    `SESSION.JOINED {"session":"s1","gateway":"gxy7"} @1 → assigned gxy7 [s1]`,
    `SESSION.LEFT {"session":"s1"} @2 → draining gxy7 []`,
    "RELEASE.REQUESTED @3 → idle - []"
  ]]
]

// Paths whose last step is the point: reloads, repairs, and the events a state may ignore.
const lastSteps: ReadonlyArray<readonly [string, string]> = [
  ["SESSION.JOINED(new) → SESSION.LEFT → ROOM.LOADED(a session)",
    `ROOM.LOADED {"assignment":{"gateway":"gxy7","region":null},"sessions":[{"session":"s1","gateway":"gxy7"}]} @3 → assigned gxy7 [s1]`],
  ["SESSION.JOINED(new) → ROOM.LOADED(sessions gone)", `ROOM.LOADED {"assignment":{"gateway":"gxy7","region":null},"sessions":[]} @2 → draining gxy7 []`],
  ["SESSION.JOINED(new) → ROOM.LOADED(as stored)",
    `ROOM.LOADED {"assignment":{"gateway":"gxy7","region":null},"sessions":[{"session":"s1","gateway":"gxy7"}]} @2 → assigned gxy7 [s1]`],
  ["SESSION.JOINED(new) → SESSIONS.SYNCED(none)", `SESSIONS.SYNCED {"sessions":[]} @2 → draining gxy7 []`],
  ["SESSION.JOINED(new) → GATEWAY.DOWN(another)", `GATEWAY.DOWN {"gateway":"gxy12"} @2 → assigned gxy7 [s1]`],
  ["SESSION.JOINED(new) → SESSION.UPDATED(known)", `SESSION.UPDATED {"session":"s1","gateway":"gxy7"} @2 → assigned gxy7 [s1]`],
  ["SESSION.JOINED(new) → SESSION.JOINED(again)", `SESSION.JOINED {"session":"s1","gateway":"gxy7"} @2 → assigned gxy7 [s1]`],
  ["SESSION.JOINED(new) → RELEASE.REQUESTED", "RELEASE.REQUESTED @2 → assigned gxy7 [s1]"],
  ["SESSION.JOINED(new) → SESSION.LEFT → REASSIGN.REQUESTED(to another)", `REASSIGN.REQUESTED {"gateway":"gxy12"} @3 → draining gxy7 []`]
]

describe("lifecycle paths", () => {
  it("cover every transition of the machine, 119 paths for 40 transitions, and name those a set of paths leaves out", () => {
    const { paths, coverage } = generated()
    assert.deepStrictEqual(coverage, { total: 40, covered: 40, missing: [] })
    assert.strictEqual(paths.length, 119)
    const without = paths.filter((p) => !p.description.includes("after drainGrace") && !p.description.includes("SESSION.JOINED(again)"))
    assert.deepStrictEqual(coverageOf(configuredMachine({ drainGrace: 30_000, assignmentTtl: 120_000 }), without), {
      total: 40,
      covered: 37,
      missing: ["assigned: SESSION.JOINED #2", "assigned: after settleTime #1", "draining: after drainGrace #1"]
    })
  })

  it("use the gateways the deployment is told about", () => {
    assert.deepStrictEqual([usersGateway, otherGateway, foreignGateway], ["gxy7", "gxy12", "gxy4"])
  })

  it("send each event with its payload and time, from the state it happens in", () => {
    const { paths } = generated()
    const path = (description: string): LifecyclePath => {
      const found = paths.find((p) => p.description === description)
      assert.isDefined(found, description)
      return found!
    }
    for (const [description, steps] of full) assert.deepStrictEqual(written(path(description)), steps, description)
    for (const [description, last] of lastSteps) assert.strictEqual(written(path(description)).at(-1), last, description)
  })

  it("every path starts from a fresh room, never moves time back, and leaves no room waiting for the balancer", () => {
    for (const p of generated().paths) {
      assert.strictEqual(p.steps[0]!.event.at, 1, p.description)
      p.steps.forEach((s, i) => i > 0 && assert.isAtLeast(s.event.at, p.steps[i - 1]!.event.at, p.description))
      assert.notStrictEqual(p.steps.at(-1)!.state.value, "assigning", p.description)
      assert.strictEqual(p.description, p.steps.map((s) => (s.event as { kind?: string }).kind).join(" → "))
    }
  })
})
