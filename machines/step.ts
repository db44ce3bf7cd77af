// The one interpreter of the room machine: pure. `step` takes a room's
// snapshot and an event and answers the next snapshot and the effects the
// runtime must carry out — persist, select a gateway, write, touch or release
// the assignment, schedule or cancel a timer, log. Timers are deadlines
// (epoch ms) kept in the snapshot, so they survive restarts. The Room entity
// (src/rooms/) and the balancing simulator (bench/simulate/) both use it.
import { assign, initialTransition, transition } from "xstate"
import {
  defaultDelays,
  defaultExpectedBound,
  forgotten,
  type LogLine,
  pacedWrites,
  type RoomContext,
  type RoomEvent,
  roomMachine,
  type RoomState
} from "./room.machine.ts"

/** A timer event, e.g. `xstate.after.drainGrace.room.draining`. */
export interface TimerEvent {
  readonly type: `xstate.after.${string}`
}

export interface Timer {
  readonly event: TimerEvent
  /** When it fires, epoch milliseconds. */
  readonly at: number
}

/** A room's machine as stored. */
export interface RoomSnapshot {
  readonly state: RoomState
  readonly context: RoomContext
  readonly timers: Readonly<Record<string, Timer>>
  /** History rows appended so far. */
  readonly seq: number
}

/** A row of the room's history: a change of state, gateway or membership. */
export interface HistoryRow {
  readonly seq: number
  readonly from: RoomState
  /** The event, or `after drainGrace` for a timer. */
  readonly event: string
  readonly to: RoomState
  readonly gateway: string | null
  readonly sessions: number
}

/** What the balancer needs to place the room. */
export interface GatewayRequest {
  readonly country: string | undefined
  readonly region: string | undefined
  readonly avoid: string | undefined
  readonly users: number
}

export type RoomEffect =
  /** Store the snapshot, and append `history` when the state, gateway or membership changed. */
  | { readonly _tag: "Persist"; readonly history: HistoryRow | undefined }
  | { readonly _tag: "SelectGateway"; readonly request: GatewayRequest }
  | { readonly _tag: "WriteAssignment"; readonly gateway: string; readonly region: string | null; readonly users: number }
  | { readonly _tag: "TouchAssignment" }
  | { readonly _tag: "ReleaseAssignment"; readonly reason: string }
  | { readonly _tag: "Schedule"; readonly id: string; readonly timer: Timer }
  | { readonly _tag: "Cancel"; readonly id: string }
  | { readonly _tag: "Log"; readonly line: LogLine; readonly gateway: string | null }

export interface Step {
  readonly snapshot: RoomSnapshot
  readonly effects: ReadonlyArray<RoomEffect>
}

export interface Delays {
  readonly drainGrace: number
  readonly assignmentTtl: number
  /** No room expects more users than this (MAX_SERVER_CAPACITY); 0 turns expected sizes off. */
  readonly maxServerCapacity?: number | undefined
}

/** The machine with the configured delays (and the renewals and touches paced by its TTL). */
export const configuredMachine = (delays: Delays = defaultDelays) =>
  roomMachine.provide({
    delays: { drainGrace: delays.drainGrace, assignmentTtl: delays.assignmentTtl },
    actions: { forgetGateway: assign(({ context }) => forgotten(context, delays.maxServerCapacity ?? defaultExpectedBound)) },
    guards: pacedWrites(delays.assignmentTtl)
  })

export type ConfiguredMachine = ReturnType<typeof configuredMachine>

export const newSnapshot = (machine: ConfiguredMachine, room: string): RoomSnapshot => {
  const [snapshot] = initialTransition(machine, { room })
  return { state: snapshot.value as RoomState, context: snapshot.context, timers: {}, seq: 0 }
}

/** The event's name in the history: `after drainGrace` for a timer. */
export const eventLabel = (event: { readonly type: string }): string => {
  const m = /^xstate\.after\.([^.]+)\./.exec(event.type)
  return m ? `after ${m[1]}` : event.type
}

/** What choosing a room's next timer needs of it. */
interface PendingTimer {
  readonly at: number
  readonly event: { readonly type: string }
}

/** The earliest pending timer, if any. */
export const nextTimer = <T extends PendingTimer>(snapshot: { readonly timers: Readonly<Record<string, T>> }): (T & { readonly id: string }) | undefined => {
  let next: (T & { readonly id: string }) | undefined
  for (const [id, t] of Object.entries(snapshot.timers)) {
    if (next === undefined || t.at < next.at) next = { id, ...t }
  }
  return next
}

/**
 * Timers whose transition keeps the room in its state (a young reservation
 * settling, machines/expectedSize.ts): bookkeeping, not a lifecycle step.
 */
const quietTimers: ReadonlySet<string> = new Set(
  Object.values(roomMachine.root.states).flatMap((node) => node.after.filter((t) => t.target === undefined).map((t) => t.eventType))
)

/**
 * The earliest pending timer that can change the room's state: the deadline
 * a room shows (its status, the inspector). A room still wakes at its
 * earliest timer of any kind (`nextTimer`).
 */
export const nextStateTimer = <T extends PendingTimer>(snapshot: { readonly timers: Readonly<Record<string, T>> }): (T & { readonly id: string }) | undefined =>
  nextTimer({ timers: Object.fromEntries(Object.entries(snapshot.timers).filter(([, t]) => !quietTimers.has(t.event.type))) })

/** Timers due at `now`, oldest first. */
export const dueTimers = (snapshot: RoomSnapshot, now: number): ReadonlyArray<Timer> =>
  Object.values(snapshot.timers).filter((t) => t.at <= now).sort((a, b) => a.at - b.at)

/**
 * Whether a room in this state, with this many sessions, answers a
 * `SERVER.REQUESTED` with its gateway and nothing else that matters: an
 * `assigned` room with users changes no state, gateway or timer for it (it
 * may touch `last_used_at`, which is informational). Only such a room's
 * sticky answer may come from a read view instead of the room's actor.
 */
export const answersStickyAlone = (state: RoomState, sessions: number): boolean => state === "assigned" && sessions > 0

/**
 * Whether a room in this state must hear the keepalives of sessions it
 * already counts: an `assigned` room does not (a keepalive of a counted
 * session changes nothing there); in every other state it acts on them
 * (a draining room is reclaimed, an idle one adopts the gateway).
 */
export const hearsKeepalives = (state: RoomState): boolean => state !== "assigned"

const sameMembers = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((s, i) => s === b[i])

// Whether a step changed what is stored: compared field by field (every
// field of the context is a primitive but the sessions; both have the same
// fields), not by serialising both.
const sameContext = (a: RoomContext, b: RoomContext) =>
  (Object.keys(a) as Array<keyof RoomContext>).every((key) => (key === "sessions" ? sameMembers(a.sessions, b.sessions) : a[key] === b[key]))

const sameTimers = (a: Readonly<Record<string, Timer>>, b: Readonly<Record<string, Timer>>) => {
  const ids = Object.keys(a)
  if (ids.length !== Object.keys(b).length) return false
  return ids.every((id) => b[id] !== undefined && a[id]!.at === b[id]!.at && a[id]!.event.type === b[id]!.event.type)
}

export const step = (machine: ConfiguredMachine, snapshot: RoomSnapshot, event: RoomEvent | TimerEvent, now: number): Step => {
  const current = machine.resolveState({ value: snapshot.state, context: snapshot.context })
  const [next, actions] = transition(machine, current, { ...event, at: now } as never)
  const state = next.value as RoomState
  const context = next.context
  const effects: Array<RoomEffect> = []
  const timers: Record<string, Timer> = { ...snapshot.timers }
  // A fired timer is spent, whatever the machine did with it.
  for (const [id, t] of Object.entries(timers)) {
    if (t.event.type === event.type) {
      delete timers[id]
      effects.push({ _tag: "Cancel", id })
    }
  }
  for (const action of actions) {
    const params = action.params as Record<string, unknown> | undefined
    switch (action.type as string) {
      case "xstate.raise":
        if (typeof params?.delay === "number") {
          const timer = { event: params.event as TimerEvent, at: now + params.delay }
          timers[String(params.id)] = timer
          effects.push({ _tag: "Schedule", id: String(params.id), timer })
        }
        break
      case "xstate.cancel":
        if (timers[String(params?.sendId)] !== undefined) {
          delete timers[String(params?.sendId)]
          effects.push({ _tag: "Cancel", id: String(params?.sendId) })
        }
        break
      case "selectGateway":
        effects.push({
          _tag: "SelectGateway",
          request: {
            country: context.country ?? undefined,
            region: context.region ?? undefined,
            avoid: context.avoid ?? undefined,
            users: context.sessions.length
          }
        })
        break
      case "recordAssignment":
        effects.push({ _tag: "WriteAssignment", gateway: context.gateway!, region: context.region, users: context.sessions.length })
        break
      case "touchAssignment":
        effects.push({ _tag: "TouchAssignment" })
        break
      case "releaseAssignment":
        effects.push({ _tag: "ReleaseAssignment", reason: String(params?.reason) })
        break
      case "log":
        effects.push({ _tag: "Log", line: params as unknown as LogLine, gateway: snapshot.context.gateway ?? context.gateway })
        break
    }
  }
  const changed = state !== snapshot.state || context.gateway !== snapshot.context.gateway ||
    !sameMembers(context.sessions, snapshot.context.sessions)
  const seq = changed ? snapshot.seq + 1 : snapshot.seq
  const nextSnapshot: RoomSnapshot = { state, context, timers, seq }
  const history: HistoryRow | undefined = changed
    ? { seq, from: snapshot.state, event: eventLabel(event), to: state, gateway: context.gateway ?? snapshot.context.gateway, sessions: context.sessions.length }
    : undefined
  if (changed || !sameContext(context, snapshot.context) || !sameTimers(timers, snapshot.timers)) {
    effects.unshift({ _tag: "Persist", history })
  }
  return { snapshot: nextSnapshot, effects }
}
