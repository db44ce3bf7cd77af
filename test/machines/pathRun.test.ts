// How a real room takes a path (machines/pathRun.ts), as the model-based
// suite and `npm run model-test` both run it: which steps are one move, the
// time it is taken at, the balancer's answer in it, and the history rows
// the interpreter expects of it.
import { assert, describe, it } from "@effect/vitest"
import { gatewayNames, type Move, movesOf } from "../../machines/pathRun.ts"
import { lifecyclePaths } from "../../machines/paths.ts"
import { configuredMachine } from "../../machines/step.ts"

const delays = { drainGrace: 30_000, assignmentTtl: 120_000 }
const t0 = 1_000

/** The moves of the generated path `description`, as the suite takes them from `t0`. */
const moves = (description: string): ReadonlyArray<Move> => {
  const path = lifecyclePaths(delays).paths.find((p) => p.description === description)
  assert.isDefined(path, description)
  return movesOf(configuredMachine(delays), path!, "room-1", t0)
}

const written = (move: Move) => ({
  label: move.label,
  answer: move.answer,
  at: move.at,
  state: move.state.value,
  storedMidAssignment: move.storedMidAssignment,
  history: move.history.map((h) => `${h.seq} ${h.from} -${h.event}-> ${h.to} ${h.gateway ?? "-"} [${h.sessions}]`)
})

describe("a path as a real room takes it", () => {
  it("a step into assigning is taken with the balancer's answer, as one move at the answer's time", () => {
    const [move, ...rest] = moves("SERVER.REQUESTED → BALANCER.DONE")
    assert.deepStrictEqual(rest, [])
    assert.deepStrictEqual(written(move!), {
      label: "SERVER.REQUESTED + BALANCER.DONE",
      answer: "BALANCER.DONE",
      at: t0 + 2,
      state: "assigned",
      storedMidAssignment: false,
      history: ["1 idle -SERVER.REQUESTED-> assigning - [0]", "2 assigning -BALANCER.DONE-> assigned gxy2 [0]"]
    })
    assert.strictEqual(move!.event.type, "SERVER.REQUESTED")
    assert.deepStrictEqual(Object.values(move!.snapshot.timers).map((t) => t.at), [t0 + 2 + delays.assignmentTtl])
  })

  it("a failed assignment is one move too, back to idle", () => {
    assert.deepStrictEqual(moves("SERVER.REQUESTED → BALANCER.FAILED").map(written), [{
      label: "SERVER.REQUESTED + BALANCER.FAILED",
      answer: "BALANCER.FAILED",
      at: t0 + 2,
      state: "idle",
      storedMidAssignment: false,
      history: ["1 idle -SERVER.REQUESTED-> assigning - [0]", "2 assigning -BALANCER.FAILED-> idle - [0]"]
    }])
  })

  it("other steps are a move each, taken at their own time (a timer at its deadline)", () => {
    const taken = moves("SESSION.JOINED(new) → SESSION.LEFT → after drainGrace")
    assert.deepStrictEqual(taken.map(written), [
      { label: "SESSION.JOINED(new)", answer: undefined, at: t0 + 1, state: "assigned", storedMidAssignment: false, history: ["1 idle -SESSION.JOINED-> assigned gxy7 [1]"] },
      { label: "SESSION.LEFT", answer: undefined, at: t0 + 2, state: "draining", storedMidAssignment: false, history: ["2 assigned -SESSION.LEFT-> draining gxy7 [0]"] },
      { label: "after drainGrace", answer: undefined, at: t0 + 2 + delays.drainGrace, state: "idle", storedMidAssignment: false, history: ["3 draining -after drainGrace-> idle gxy7 [0]"] }
    ])
    assert.deepStrictEqual(Object.values(taken[1]!.snapshot.timers).map((t) => t.at), [t0 + 2 + delays.drainGrace])
    assert.deepStrictEqual(taken[2]!.snapshot.timers, {})
  })

  it("a room stored mid-assignment and loaded: stored as assigning holds it, with no row for the step that started it", () => {
    const [move] = moves("SERVER.REQUESTED → ROOM.LOADED(as stored) → BALANCER.DONE")
    assert.deepStrictEqual(written(move!), {
      label: "SERVER.REQUESTED + ROOM.LOADED(as stored) + BALANCER.DONE",
      answer: "BALANCER.DONE",
      at: t0 + 3,
      state: "assigned",
      storedMidAssignment: true,
      history: ["2 assigning -BALANCER.DONE-> assigned gxy2 [0]"]
    })
    assert.strictEqual(move!.assigning.state, "assigning")
    assert.strictEqual(move!.assigning.seq, 1)
    assert.strictEqual(move!.snapshot.state, "assigned")
  })
})

describe("the model's gateways as the real ones", () => {
  it("a gateway first named stands for the room's; the balancer's real choice always stands for its own", () => {
    const [joined, left, drained] = moves("SESSION.JOINED(new) → SESSION.LEFT → after drainGrace")
    const [placed] = moves("SERVER.REQUESTED → BALANCER.DONE")
    const names = gatewayNames()
    assert.strictEqual(names.real("gxy7"), "gxy7", "unknown: itself")
    names.learn(joined!, "gxy3")
    assert.strictEqual(names.real("gxy7"), "gxy3")
    names.learn(left!, "gxy9")
    assert.strictEqual(names.real("gxy7"), "gxy3", "known, and no balancer chose: kept")
    names.learn(drained!, "gxy9")
    assert.strictEqual(names.real("gxy7"), "gxy3", "the room has no gateway: nothing learnt")
    names.learn(placed!, "gxy5")
    assert.strictEqual(names.real("gxy2"), "gxy5")
    names.learn(placed!, "gxy6")
    assert.strictEqual(names.real("gxy2"), "gxy6", "the balancer chose again")
  })
})
