// Steps the room machine with XState's pure `transition` and turns the
// actions it returns into plain instructions for the Room entity: what to
// write, whether to run the balancer, which timers are pending. Timers are
// deadlines (epoch ms) kept in the snapshot, so they survive restarts.
import { initialTransition, transition } from "xstate"
import {
  type ReleaseReason,
  type RoomContext,
  type RoomEvent,
  roomMachine,
  type RoomState
} from "../../machines/room.machine.ts"
import type { AssignmentChange } from "../db/roomStore.ts"

export interface Timer {
  readonly event: { readonly type: string }
  /** When it fires, epoch milliseconds. */
  readonly at: number
}

/** A room's machine as stored: its state, context and pending timers. */
export interface RoomLife {
  readonly state: RoomState
  readonly context: RoomContext
  readonly timers: Readonly<Record<string, Timer>>
}

export interface Delays {
  readonly drainGrace: number
  readonly assignmentTtl: number
}

/** What the entity must do after one step. */
export interface Step {
  readonly from: RoomState
  readonly life: RoomLife
  readonly selectGateway: boolean
  readonly assignment: AssignmentChange
  readonly released: ReleaseReason | undefined
}

/** The machine with the configured delays. */
export const configuredMachine = (delays: Delays) =>
  roomMachine.provide({ delays: { drainGrace: delays.drainGrace, assignmentTtl: delays.assignmentTtl } })

type Machine = ReturnType<typeof configuredMachine>

export const newLife = (machine: Machine, room: number): RoomLife => {
  const [snapshot] = initialTransition(machine, { room })
  return { state: snapshot.value as RoomState, context: snapshot.context, timers: {} }
}

/** The event label in the transition log: `after drainGrace` for a timer. */
export const eventLabel = (event: { readonly type: string }): string => {
  const m = /^xstate\.after\.([^.]+)\./.exec(event.type)
  return m ? `after ${m[1]}` : event.type
}

/** The earliest pending timer, if any. */
export const nextTimer = (life: RoomLife): (Timer & { readonly id: string }) | undefined => {
  let next: (Timer & { readonly id: string }) | undefined
  for (const [id, t] of Object.entries(life.timers)) {
    if (next === undefined || t.at < next.at) next = { id, ...t }
  }
  return next
}

export const step = (machine: Machine, life: RoomLife, event: RoomEvent | Timer["event"], now: number): Step => {
  const current = machine.resolveState({ value: life.state, context: life.context })
  const [next, actions] = transition(machine, current, event as RoomEvent)
  const timers: Record<string, Timer> = { ...life.timers }
  // A fired timer is spent, whatever the machine did with it.
  for (const [id, t] of Object.entries(timers)) if (t.event.type === event.type) delete timers[id]
  let selectGateway = false
  let assignment: AssignmentChange = { kind: "none" }
  let released: ReleaseReason | undefined
  for (const action of actions) {
    const params = action.params as Record<string, unknown> | undefined
    switch (action.type as string) {
      case "xstate.raise":
        if (typeof params?.delay === "number") {
          timers[String(params.id)] = { event: params.event as Timer["event"], at: now + params.delay }
        }
        break
      case "xstate.cancel":
        delete timers[String(params?.sendId)]
        break
      case "selectGateway":
        selectGateway = true
        break
      case "recordAssignment":
        assignment = { kind: "record", gateway: next.context.gateway!, region: next.context.region, users: next.context.sessions.length }
        break
      case "touchAssignment":
        if (assignment.kind === "none") assignment = { kind: "touch" }
        break
      case "releaseAssignment":
        assignment = { kind: "release" }
        released = (params as { reason: ReleaseReason }).reason
        break
    }
  }
  return {
    from: life.state,
    life: { state: next.value as RoomState, context: next.context, timers },
    selectGateway,
    assignment,
    released
  }
}
