// The lifecycle's test paths, derived from the room machine itself with
// xstate/graph: for every transition the machine can take (guarded ones and
// failures included), the shortest way to reach its state and then take it.
// Events carry the time they happen (`at`), so a test can keep a real room's
// clock in step with the machine's. Used by the model-based suite and by
// `npm run model-test` against a running deployment, both through
// machines/pathRun.ts.
import { transition } from "xstate"
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from "xstate/graph"
import { placementReserve, settleTime } from "./expectedSize.ts"
import type { RoomContext, RoomEvent, RoomState } from "./room.machine.ts"
import { configuredMachine, type Delays, type TimerEvent } from "./step.ts"

export type ModelEvent = (RoomEvent | TimerEvent) & { readonly at: number }

export interface ModelState {
  readonly value: RoomState
  readonly context: RoomContext
}

export interface LifecycleStep {
  readonly event: ModelEvent
  /** The machine's state after the event. */
  readonly state: ModelState
}

export interface LifecyclePath {
  readonly description: string
  readonly steps: ReadonlyArray<LifecycleStep>
}

export interface Coverage {
  readonly total: number
  readonly covered: number
  /** Transitions no path takes, as `state: event [#candidate]`. */
  readonly missing: ReadonlyArray<string>
}

/** The gateway users join on when the room has none. */
export const usersGateway = "gxy7"
/** A gateway of the deployment the room is not on. */
export const otherGateway = "gxy12"
/** The gateway a loaded assignment names (an assignment made before this service). */
export const foreignGateway = "gxy4"

const sessionIds = ["s1", "s2"]

/** The events worth trying in a state, each named by its kind, with payloads drawn from the state's context. */
const eventsFor = (delays: Delays) => (snapshot: { value: unknown; context: RoomContext }): ReadonlyArray<ModelEvent & { readonly kind: string }> => {
  const state = snapshot.value as RoomState
  const c = snapshot.context
  // every event happens after everything the context remembers, so time only moves forward
  const at = Math.max(c.since, c.renewedAt, c.touchedAt) + 1
  // late enough for a renewal or a touch
  const later = at - 1 + delays.assignmentTtl / 4
  const fresh = sessionIds.find((s) => !c.sessions.includes(s))
  const known = c.sessions[0]
  const gateway = c.gateway ?? usersGateway
  const here = (sessions: ReadonlyArray<string>) => sessions.map((session) => ({ session, gateway }))
  const events: Array<ModelEvent & { readonly kind: string }> = []
  const add = (kind: string, event: ModelEvent) => events.push({ ...event, kind })
  if (state === "assigning") {
    add("BALANCER.DONE", { type: "BALANCER.DONE", gateway: "gxy2", region: null, at })
    add("BALANCER.FAILED", { type: "BALANCER.FAILED", reason: "no gateway available", at })
    add("ROOM.LOADED(as stored)", { type: "ROOM.LOADED", assignment: null, sessions: here(c.sessions), at })
    return events
  }
  add("SERVER.REQUESTED", { type: "SERVER.REQUESTED", country: "IL", at })
  if (state === "assigned") add("SERVER.REQUESTED(later)", { type: "SERVER.REQUESTED", at: later })
  if (fresh !== undefined) {
    add("SESSION.JOINED(new)", { type: "SESSION.JOINED", session: fresh, gateway, at })
    add("SESSION.UPDATED(new)", { type: "SESSION.UPDATED", session: fresh, gateway, at })
  }
  if (known !== undefined) {
    add("SESSION.JOINED(again)", { type: "SESSION.JOINED", session: known, gateway, at })
    add("SESSION.UPDATED(known)", { type: "SESSION.UPDATED", session: known, gateway, at })
    add("SESSION.LEFT", { type: "SESSION.LEFT", session: c.sessions.at(-1)!, at })
  }
  add("SESSION.LEFT(unknown)", { type: "SESSION.LEFT", session: "ghost", at })
  add("SESSIONS.SYNCED(none)", { type: "SESSIONS.SYNCED", sessions: [], at })
  if (fresh !== undefined && c.sessions.length === 0) add("SESSIONS.SYNCED(one)", { type: "SESSIONS.SYNCED", sessions: here([fresh]), at })
  if (c.gateway !== null) add("GATEWAY.DOWN(its own)", { type: "GATEWAY.DOWN", gateway: c.gateway, at })
  add("GATEWAY.DOWN(another)", { type: "GATEWAY.DOWN", gateway: otherGateway, at })
  // reloaded as stored, and as storage may differ from memory
  const stored = c.gateway === null ? null : { gateway: c.gateway, region: c.region }
  add("ROOM.LOADED(as stored)", { type: "ROOM.LOADED", assignment: stored, sessions: here(c.sessions), at })
  if (state === "idle") {
    add("ROOM.LOADED(an assignment)", { type: "ROOM.LOADED", assignment: { gateway: foreignGateway, region: null }, sessions: [], at })
    if (fresh !== undefined) add("ROOM.LOADED(a session)", { type: "ROOM.LOADED", assignment: null, sessions: here([fresh]), at })
  }
  if (c.sessions.length > 0) add("ROOM.LOADED(sessions gone)", { type: "ROOM.LOADED", assignment: stored, sessions: [], at })
  if (state === "draining" && fresh !== undefined) {
    add("ROOM.LOADED(a session)", { type: "ROOM.LOADED", assignment: stored, sessions: here([...c.sessions, fresh]), at })
  }
  // an operator's release and reassign (any state: the machine decides what they do)
  add("RELEASE.REQUESTED", { type: "RELEASE.REQUESTED", at })
  add("REASSIGN.REQUESTED", { type: "REASSIGN.REQUESTED", at })
  add("REASSIGN.REQUESTED(to another)", { type: "REASSIGN.REQUESTED", gateway: otherGateway, at })
  // timers fire at their deadline, counted from the state's entry
  if (state === "assigned" && c.sessions.length === 0) {
    add("after assignmentTtl", { type: "xstate.after.assignmentTtl.room.assigned", at: c.since + delays.assignmentTtl })
  }
  if (state === "draining") add("after drainGrace", { type: "xstate.after.drainGrace.room.draining", at: c.since + delays.drainGrace })
  // a young placement's reservation ends a fixed time after the placement
  if (state === "assigned" && c.placedAt > 0 && placementReserve(c) > 0) {
    add("after settleTime", { type: "xstate.after.settleTime.room.assigned", at: c.placedAt + settleTime })
  }
  return events
}

/** States that differ only in times or session ids are the same for the graph. */
const serializeState = (snapshot: { value: unknown; context: RoomContext }) =>
  `${String(snapshot.value)} sessions=${snapshot.context.sessions.length} gateway=${snapshot.context.gateway === null ? "none" : "set"}`

/** An event of a path by its kind (`SESSION.JOINED(new)`); the graph tells events apart by it. */
export const kindOf = (event: { readonly type: string }): string => (event as { readonly kind?: string }).kind ?? event.type

const toState = (s: { value: unknown; context: unknown }): ModelState => ({ value: s.value as RoomState, context: s.context as RoomContext })

/**
 * One path per transition the machine takes from a reachable state: the
 * shortest way there, then the transition. A path that ends while the
 * balancer is choosing gets its answer (BALANCER.DONE).
 */
export const lifecyclePaths = (delays: Delays): { readonly paths: ReadonlyArray<LifecyclePath>; readonly coverage: Coverage } => {
  const machine = configuredMachine(delays)
  const events = eventsFor(delays)
  const options = { events, serializeState, serializeEvent: kindOf, input: { room: "model" } } as const
  const shortest = new Map(
    getShortestPaths(machine, options as never).map((p) => [serializeState(p.state as never), p.steps.slice(1).map((s) => kindOf(s.event))])
  )
  const kinds: Array<ReadonlyArray<string>> = []
  for (const edge of adjacencyMapToArray(getAdjacencyMap(machine, options as never))) {
    const prefix = shortest.get(serializeState(edge.state as never))
    if (prefix !== undefined) kinds.push([...prefix, kindOf(edge.event)])
  }
  // A room's expected size is not part of the graph's states (it would
  // multiply them), so none of its paths has a room young with a
  // reservation: a class that met twice with two users is placed again,
  // asked for every 30 s (so its empty reservation outlives ASSIGNMENT_TTL),
  // and settles.
  const lesson = ["SERVER.REQUESTED", "BALANCER.DONE", "SESSION.JOINED(new)", "SESSION.JOINED(new)", "SESSION.LEFT", "SESSION.LEFT", "after drainGrace"]
  const renewals = Math.floor(settleTime / (delays.assignmentTtl / 4)) - 1
  kinds.push([...lesson, ...lesson, "SERVER.REQUESTED", "BALANCER.DONE", ...Array(renewals).fill("SERVER.REQUESTED(later)"), "after settleTime"])
  // The graph keeps one state per serialization, which may have come by
  // another way: replay each path's kinds of events from the start, so
  // every event is drawn from the state it really happens in.
  const paths = new Map<string, LifecyclePath>()
  for (const path of kinds) {
    let state = machine.getInitialSnapshot({} as never, { room: "model" }) as unknown as ModelState
    const steps: Array<LifecycleStep> = []
    for (const kind of [...path, "BALANCER.DONE"]) {
      if (kind === "BALANCER.DONE" && steps.length === path.length && state.value !== "assigning") break
      const event = events(state).find((e) => e.kind === kind)!
      const [next] = transition(machine, machine.resolveState(state as never), event as never)
      steps.push({ event, state: toState(next) })
      state = steps.at(-1)!.state
    }
    paths.set(path.join(" → "), { description: steps.map((s) => kindOf(s.event)).join(" → "), steps })
  }
  const unique = [...paths.values()]
  return { paths: unique, coverage: coverageOf(machine, unique) }
}

/** Which of the machine's transitions (each candidate of each event of each state) the paths take. */
export const coverageOf = (machine: ReturnType<typeof configuredMachine>, paths: ReadonlyArray<LifecyclePath>): Coverage => {
  const all = new Map<unknown, string>()
  for (const [key, node] of Object.entries(machine.root.states)) {
    for (const [event, candidates] of node.transitions) {
      candidates.forEach((t, i) => all.set(t, `${key}: ${event.replace(/^xstate\.after\.([^.]+)\..*$/, "after $1")} #${i + 1}`))
    }
  }
  const taken = new Set<unknown>()
  for (const path of paths) {
    let snapshot = machine.resolveState({ value: "idle", context: { ...initialContextOf(machine), room: "model" } })
    for (const step of path.steps) {
      for (const t of machine.getTransitionData(snapshot, step.event as never)) taken.add(t)
      snapshot = machine.resolveState(step.state as never)
    }
  }
  const missing = [...all].filter(([t]) => !taken.has(t)).map(([, name]) => name)
  return { total: all.size, covered: all.size - missing.length, missing }
}

const initialContextOf = (machine: ReturnType<typeof configuredMachine>) =>
  (machine.getInitialSnapshot({} as never, { room: "model" }) as { context: RoomContext }).context
