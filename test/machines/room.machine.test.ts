// The machine alone, through the interpreter the runtime uses, row by row
// against the specification's table: state, context and the effects asked for.
import { assert, describe, it } from "@effect/vitest"
import type { RoomEvent } from "../../machines/room.machine.ts"
import { roomMachine } from "../../machines/room.machine.ts"
import { configuredMachine, newSnapshot, type RoomEffect, type RoomSnapshot, step, type TimerEvent } from "../../machines/step.ts"
import { machineGraph, toMermaid } from "../../src/inspect/machineGraph.ts"

const machine = configuredMachine({ drainGrace: 30_000, assignmentTtl: 120_000 })

/** Runs events from a fresh room, one second apart; answers the last snapshot and the effects of the last step. */
const run = (...events: ReadonlyArray<RoomEvent | TimerEvent | { readonly wait: number }>) => {
  let snapshot: RoomSnapshot = newSnapshot(machine, "2171")
  let effects: ReadonlyArray<RoomEffect> = []
  let now = 1_000_000
  for (const e of events) {
    if ("wait" in e) {
      now += e.wait
      continue
    }
    now += 1_000
    ;({ snapshot, effects } = step(machine, snapshot, e, now))
  }
  return { state: snapshot.state, context: snapshot.context, snapshot, effects, tags: effects.map((e) => e._tag) }
}

const assigned = [{ type: "SERVER.REQUESTED", country: "il" }, { type: "BALANCER.DONE", gateway: "gxy5", region: "IL" }] as const
const join = (session: string, gateway = "gxy5") => ({ type: "SESSION.JOINED", session, gateway }) as const
const leave = (session: string) => ({ type: "SESSION.LEFT", session }) as const
const drainElapsed = { type: "xstate.after.drainGrace.room.draining" } as const
const ttlElapsed = { type: "xstate.after.assignmentTtl.room.assigned" } as const
const loaded = (assignment: { gateway: string; region: string | null } | null, ...sessions: ReadonlyArray<[string, string]>) =>
  ({ type: "ROOM.LOADED", assignment, sessions: sessions.map(([session, gateway]) => ({ session, gateway })) }) as const
const synced = (...sessions: ReadonlyArray<[string, string]>) =>
  ({ type: "SESSIONS.SYNCED", sessions: sessions.map(([session, gateway]) => ({ session, gateway })) }) as const

describe("room machine", () => {
  it("idle + SERVER.REQUESTED → assigning, asking the balancer with the caller's country", () => {
    const r = run({ type: "SERVER.REQUESTED", country: "il" })
    assert.strictEqual(r.state, "assigning")
    assert.deepInclude(r.effects, { _tag: "SelectGateway", request: { country: "IL", region: undefined, avoid: undefined, users: 0 } })
    assert.deepInclude(r.effects[0], { _tag: "Persist" })
  })

  it("idle + SESSION.JOINED → assigned, adopting the session's gateway and writing the assignment", () => {
    const r = run(join("a", "gxy3"))
    assert.strictEqual(r.state, "assigned")
    assert.deepStrictEqual(r.context.sessions, ["a"])
    assert.deepInclude(r.effects, { _tag: "WriteAssignment", gateway: "gxy3", region: null, users: 1 })
  })

  it("assigning + BALANCER.DONE → assigned, recording the assignment and arming the reservation TTL", () => {
    const r = run(...assigned)
    assert.strictEqual(r.state, "assigned")
    assert.deepInclude(r.context, { gateway: "gxy5", region: "IL" })
    assert.deepInclude(r.effects, { _tag: "WriteAssignment", gateway: "gxy5", region: "IL", users: 0 })
    assert.include(r.tags, "Schedule")
  })

  it("assigning + BALANCER.FAILED → idle, the old assignment released, a warning logged", () => {
    const r = run({ type: "SERVER.REQUESTED" }, { type: "BALANCER.FAILED", reason: "no gateway available" })
    assert.strictEqual(r.state, "idle")
    assert.strictEqual(r.context.gateway, null)
    assert.deepInclude(r.effects, { _tag: "ReleaseAssignment", reason: "no gateway available" })
    assert.include(r.tags, "Log")
  })

  it("assigned + SERVER.REQUESTED stays on its gateway: nothing to write, a touch at most every quarter of ASSIGNMENT_TTL", () => {
    const r = run(...assigned, join("a"), { type: "SERVER.REQUESTED", country: "US" })
    assert.strictEqual(r.context.gateway, "gxy5")
    assert.deepStrictEqual(r.effects, [], "a sticky hit writes nothing")
    const later = run(...assigned, join("a"), { wait: 30_000 }, { type: "SERVER.REQUESTED" })
    assert.deepStrictEqual(later.tags, ["Persist", "TouchAssignment"])
  })

  it("an unused reservation is renewed by requests at most every quarter of its TTL", () => {
    assert.deepStrictEqual(run(...assigned, { type: "SERVER.REQUESTED" }).effects, [])
    const renewed = run(...assigned, { wait: 30_000 }, { type: "SERVER.REQUESTED" })
    assert.includeMembers(renewed.tags, ["Persist", "Cancel", "Schedule", "TouchAssignment"])
  })

  // src/sessions relies on this: a room counting a session while `assigned`
  // is not told that session's keepalives; out of `assigned` it is again.
  it("assigned counts sessions; a duplicate join or a keepalive is not a second user and writes nothing; elsewhere a keepalive of a counted session acts", () => {
    const r = run(...assigned, join("a"), join("b"), join("a"))
    assert.deepStrictEqual(r.context.sessions, ["a", "b"])
    assert.deepStrictEqual(r.effects, [])
    const keepalive = { type: "SESSION.UPDATED", session: "a", gateway: "gxy5" } as const
    assert.deepStrictEqual(run(...assigned, join("a"), keepalive).effects, [])
    // a failover that found no gateway leaves the room idle with its users: their next keepalive places it again
    const stranded = run(...assigned, join("a"), { type: "GATEWAY.DOWN", gateway: "gxy5" }, { type: "BALANCER.FAILED", reason: "no gateway available" })
    assert.strictEqual(stranded.state, "idle")
    assert.deepStrictEqual(stranded.context.sessions, ["a"])
    const again = run(...assigned, join("a"), { type: "GATEWAY.DOWN", gateway: "gxy5" }, { type: "BALANCER.FAILED", reason: "no gateway available" }, keepalive)
    assert.strictEqual(again.state, "assigned")
    assert.include(again.tags, "WriteAssignment")
  })

  it("a join or leave is a history row with the room's new count, and updates the assignment's users", () => {
    const r = run(...assigned, join("a"), join("b"))
    assert.deepInclude(r.effects, { _tag: "Persist", history: { seq: 4, from: "assigned", event: "SESSION.JOINED", to: "assigned", gateway: "gxy5", sessions: 2 } })
    assert.deepInclude(r.effects, { _tag: "WriteAssignment", gateway: "gxy5", region: "IL", users: 2 })
  })

  it("assigned + last SESSION.LEFT → draining with the grace timer", () => {
    assert.strictEqual(run(...assigned, join("a"), join("b"), leave("a")).state, "assigned")
    const d = run(...assigned, join("a"), join("b"), leave("a"), leave("b"))
    assert.strictEqual(d.state, "draining")
    assert.include(d.tags, "Schedule")
    assert.strictEqual(Object.values(d.snapshot.timers)[0]!.event.type, drainElapsed.type)
  })

  it("assigned with nobody joined within ASSIGNMENT_TTL → idle, released and logged", () => {
    const r = run(...assigned, ttlElapsed)
    assert.strictEqual(r.state, "idle")
    assert.deepInclude(r.effects, { _tag: "ReleaseAssignment", reason: "reservation unused" })
    assert.deepInclude(r.effects, { _tag: "Log", line: { level: "info", message: "Released room assignment", reason: "reservation unused" }, gateway: "gxy5" })
    assert.strictEqual(run(...assigned, join("a"), ttlElapsed).state, "assigned", "a room someone joined is not released by the TTL")
  })

  it("assigned + GATEWAY.DOWN of its gateway → assigning, avoiding it and keeping the region and users", () => {
    const r = run(...assigned, join("a"), { type: "GATEWAY.DOWN", gateway: "gxy5" })
    assert.strictEqual(r.state, "assigning")
    assert.deepInclude(r.effects, { _tag: "SelectGateway", request: { country: "IL", region: "IL", avoid: "gxy5", users: 1 } })
    assert.strictEqual(run(...assigned, { type: "GATEWAY.DOWN", gateway: "gxy9" }).state, "assigned")
  })

  it("draining + SESSION.JOINED or SERVER.REQUESTED → assigned on the same gateway", () => {
    const drained = [...assigned, join("a"), leave("a")] as const
    assert.deepInclude(run(...drained, join("b")).context, { gateway: "gxy5", sessions: ["b"] })
    assert.strictEqual(run(...drained, join("b")).state, "assigned")
    assert.deepInclude(run(...drained, { type: "SERVER.REQUESTED" }), { state: "assigned" })
    assert.strictEqual(run(...drained, { type: "SERVER.REQUESTED" }).context.gateway, "gxy5")
  })

  it("draining + DRAIN_GRACE elapsed → idle, assignment released, `Cleaned up room assignment` logged", () => {
    const r = run(...assigned, join("a"), leave("a"), drainElapsed)
    assert.strictEqual(r.state, "idle")
    assert.strictEqual(r.context.gateway, null)
    assert.deepInclude(r.effects, { _tag: "ReleaseAssignment", reason: "drain grace elapsed" })
    assert.deepInclude(r.effects, { _tag: "Log", line: { level: "info", message: "Cleaned up room assignment", reason: "drain grace elapsed" }, gateway: "gxy5" })
    assert.deepInclude(r.effects, { _tag: "Persist", history: { seq: 5, from: "draining", event: "after drainGrace", to: "idle", gateway: "gxy5", sessions: 0 } })
  })

  it("draining + GATEWAY.DOWN of its gateway → idle (no reconnect is sent to a dead gateway)", () => {
    assert.strictEqual(run(...assigned, join("a"), leave("a"), { type: "GATEWAY.DOWN", gateway: "gxy5" }).state, "idle")
  })

  it("ROOM.LOADED: an assignment made elsewhere is adopted, a room in use on a gateway stays there", () => {
    assert.deepInclude(run(loaded({ gateway: "gxy4", region: null })).context, { gateway: "gxy4", sessions: [] })
    const inUse = run(loaded(null, ["a", "gxy2"], ["b", "gxy7"], ["c", "gxy7"]))
    assert.deepInclude(inUse, { state: "assigned" })
    assert.deepInclude(inUse.context, { gateway: "gxy7", sessions: ["a", "b", "c"] })
    assert.deepInclude(inUse.effects, { _tag: "WriteAssignment", gateway: "gxy7", region: null, users: 3 })
    assert.deepStrictEqual(run(loaded(null)).effects, [], "an unused room loads without writing")
  })

  it("ROOM.LOADED and SESSIONS.SYNCED repair the count: a leave nobody told drains the room, a join nobody told fills it", () => {
    const emptied = run(...assigned, join("a"), synced())
    assert.deepInclude(emptied, { state: "draining" })
    assert.deepStrictEqual(emptied.context.sessions, [])
    assert.deepInclude(run(...assigned, join("a"), leave("a"), synced(["b", "gxy5"])), { state: "assigned" })
    assert.deepStrictEqual(run(...assigned, synced()).state, "assigned", "a reservation nobody joined stays")
    assert.deepStrictEqual(run(...assigned, join("a"), loaded({ gateway: "gxy5", region: "IL" }, ["a", "gxy5"], ["b", "gxy5"])).context.sessions, ["a", "b"])
  })

  it("ROOM.LOADED in assigning (stored mid-assignment) asks the balancer again", () => {
    const r = run({ type: "SERVER.REQUESTED" }, loaded(null))
    assert.strictEqual(r.state, "assigning")
    assert.include(r.tags, "SelectGateway")
  })
})

describe("machine export", () => {
  it("lists every state and every state-changing transition, and draws them", () => {
    const graph = machineGraph(roomMachine)
    assert.deepStrictEqual(graph.states, ["idle", "assigning", "assigned", "draining"])
    assert.strictEqual(graph.initial, "idle")
    assert.deepInclude(graph.transitions, {
      from: "draining", to: "idle", event: "after drainGrace", guard: undefined, actions: ["releaseAssignment", "log", "forgetGateway"]
    })
    const mermaid = toMermaid(graph)
    assert.include(mermaid, "stateDiagram-v2")
    // parallel edges: one label, one line per event and its guard (narrow labels do not overlap when drawn)
    assert.include(mermaid, "assigned --> draining: ROOM.LOADED<br/>[emptiedUnnoticed]<br/>SESSIONS.SYNCED<br/>[emptiedUnnoticed]<br/>SESSION.LEFT<br/>[isLastSession]\n")
    assert.include(mermaid, "assigned --> assigned: SERVER.REQUESTED<br/>[isEmpty && renewalDue]<br/>REASSIGN.REQUESTED<br/>[namesOtherGateway]\n")
    assert.include(mermaid, "assigned --> idle: RELEASE.REQUESTED<br/>[isEmpty]<br/>after assignmentTtl<br/>[isEmpty]\n")
    assert.include(mermaid, "draining --> idle: RELEASE.REQUESTED<br/>GATEWAY.DOWN<br/>[isRoomGateway]<br/>after drainGrace\n")
  })
})
