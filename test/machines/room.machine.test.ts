// The machine alone, row by row against the specification's table.
import { assert, describe, it } from "@effect/vitest"
import { initialTransition, transition } from "xstate"
import { type RoomEvent, roomMachine } from "../../machines/room.machine.ts"
import { machineGraph, toMermaid } from "../../src/inspect/machineGraph.ts"

const machine = roomMachine.provide({ delays: { drainGrace: 30_000, assignmentTtl: 120_000 } })

/** Runs events from a fresh room; answers the last snapshot and the actions of the last step. */
const run = (...events: ReadonlyArray<RoomEvent | { type: string }>) => {
  let [snapshot, actions] = initialTransition(machine, { room: 2171 })
  for (const e of events) [snapshot, actions] = transition(machine, snapshot, e as RoomEvent)
  return { state: snapshot.value, context: snapshot.context, actions: actions.map((a) => a.type as string) }
}

const assigned = [{ type: "SERVER.REQUESTED", country: "il" }, { type: "BALANCER.DONE", gateway: "gxy5", region: "IL" }] as const
const join = (session: string, gateway = "gxy5") => ({ type: "SESSION.JOINED", session, gateway }) as const
const leave = (session: string) => ({ type: "SESSION.LEFT", session }) as const
const drainElapsed = { type: "xstate.after.drainGrace.room.draining" }
const ttlElapsed = { type: "xstate.after.assignmentTtl.room.assigned" }

describe("room machine", () => {
  it("idle + SERVER.REQUESTED → assigning, asking the balancer", () => {
    const r = run({ type: "SERVER.REQUESTED", country: "il" })
    assert.strictEqual(r.state, "assigning")
    assert.strictEqual(r.context.country, "IL")
    assert.deepStrictEqual(r.actions, ["selectGateway"])
  })

  it("idle + SESSION.JOINED → assigned, adopting the session's gateway", () => {
    const r = run(join("a", "gxy3"))
    assert.strictEqual(r.state, "assigned")
    assert.strictEqual(r.context.gateway, "gxy3")
    assert.deepStrictEqual(r.context.sessions, ["a"])
    assert.include(r.actions, "recordAssignment")
  })

  it("assigning + balancer done → assigned, recording the assignment", () => {
    const r = run(...assigned)
    assert.strictEqual(r.state, "assigned")
    assert.deepInclude(r.context, { gateway: "gxy5", region: "IL" })
    assert.include(r.actions, "recordAssignment")
  })

  it("assigning + balancer failed → idle", () => {
    const r = run({ type: "SERVER.REQUESTED" }, { type: "BALANCER.FAILED", reason: "no gateway available" })
    assert.strictEqual(r.state, "idle")
    assert.strictEqual(r.context.gateway, null)
  })

  it("assigned + SERVER.REQUESTED stays on its gateway and touches the assignment", () => {
    const r = run(...assigned, join("a"), { type: "SERVER.REQUESTED", country: "US" })
    assert.strictEqual(r.state, "assigned")
    assert.strictEqual(r.context.gateway, "gxy5")
    assert.deepStrictEqual(r.actions, ["touchAssignment"])
  })

  it("assigned counts sessions; a duplicate join or an update is not a second user", () => {
    const r = run(...assigned, join("a"), join("b"), join("a"), { type: "SESSION.UPDATED", session: "b", gateway: "gxy5" })
    assert.deepStrictEqual(r.context.sessions, ["a", "b"])
  })

  it("assigned + last SESSION.LEFT → draining with the grace timer", () => {
    const r = run(...assigned, join("a"), join("b"), leave("a"))
    assert.strictEqual(r.state, "assigned")
    const d = run(...assigned, join("a"), join("b"), leave("a"), leave("b"))
    assert.strictEqual(d.state, "draining")
    assert.include(d.actions, "xstate.raise")
  })

  it("assigned with nobody joined within ASSIGNMENT_TTL → idle, released", () => {
    const r = run(...assigned, ttlElapsed)
    assert.strictEqual(r.state, "idle")
    assert.include(r.actions, "releaseAssignment")
    const used = run(...assigned, join("a"), ttlElapsed)
    assert.strictEqual(used.state, "assigned", "a room someone joined is not released by the TTL")
  })

  it("assigned + GATEWAY.DOWN of its gateway → assigning, avoiding it and keeping the region", () => {
    const r = run(...assigned, join("a"), { type: "GATEWAY.DOWN", gateway: "gxy5" })
    assert.strictEqual(r.state, "assigning")
    assert.deepInclude(r.context, { avoid: "gxy5", region: "IL" })
    assert.strictEqual(run(...assigned, { type: "GATEWAY.DOWN", gateway: "gxy9" }).state, "assigned")
  })

  it("draining + SESSION.JOINED or SERVER.REQUESTED → assigned on the same gateway", () => {
    const drained = [...assigned, join("a"), leave("a")] as const
    assert.deepInclude(run(...drained, join("b")), { state: "assigned" })
    assert.strictEqual(run(...drained, join("b")).context.gateway, "gxy5")
    assert.strictEqual(run(...drained, { type: "SERVER.REQUESTED" }).context.gateway, "gxy5")
  })

  it("draining + DRAIN_GRACE elapsed → idle, assignment released", () => {
    const r = run(...assigned, join("a"), leave("a"), drainElapsed)
    assert.strictEqual(r.state, "idle")
    assert.strictEqual(r.context.gateway, null)
    assert.include(r.actions, "releaseAssignment")
  })

  it("draining + GATEWAY.DOWN of its gateway → idle (no reconnect is sent to a dead gateway)", () => {
    assert.strictEqual(run(...assigned, join("a"), leave("a"), { type: "GATEWAY.DOWN", gateway: "gxy5" }).state, "idle")
  })
})

describe("machine export", () => {
  it("lists every state and every state-changing transition, and draws them", () => {
    const graph = machineGraph(roomMachine)
    assert.deepStrictEqual(graph.states, ["idle", "assigning", "assigned", "draining"])
    assert.strictEqual(graph.initial, "idle")
    assert.deepInclude(graph.transitions, { from: "draining", to: "idle", event: "after drainGrace", guard: undefined, actions: ["releaseAssignment", "forgetGateway"] })
    const mermaid = toMermaid(graph)
    assert.include(mermaid, "stateDiagram-v2")
    assert.include(mermaid, "assigned --> draining: SESSION.LEFT [isLastSession]")
  })
})
