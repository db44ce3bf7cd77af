// Rooms brought into a state by a known sequence of events, at known times,
// so the tests can write the expected snapshot and effects out literally.
import type { RoomEvent, RoomState } from "../../machines/room.machine.ts"
import { configuredMachine, newSnapshot, type RoomEffect, type RoomSnapshot, step, type TimerEvent } from "../../machines/step.ts"

/** SPEC's defaults: DRAIN_GRACE 30 s, ASSIGNMENT_TTL 2 min. */
export const machine = configuredMachine({ drainGrace: 30_000, assignmentTtl: 120_000 })

export type Input = RoomEvent | TimerEvent

/** When the n-th given event happens (the first at 1_001_000). */
export const second = (n: number) => 1_000_000 + n * 1_000

/** Room 2171 after `given`, the n-th event at `second(n)`. */
export const roomAfter = (given: ReadonlyArray<Input>, m = machine): RoomSnapshot =>
  given.reduce((s, e, i) => step(m, s, e, second(i + 1)).snapshot, newSnapshot(m, "2171"))

export const requested = { type: "SERVER.REQUESTED", country: "il" } as const
export const placed = { type: "BALANCER.DONE", gateway: "gxy5", region: "IL" } as const
export const failed = { type: "BALANCER.FAILED", reason: "no gateway available" } as const
export const join = (session: string, gateway = "gxy5") => ({ type: "SESSION.JOINED", session, gateway }) as const
export const update = (session: string, gateway = "gxy5") => ({ type: "SESSION.UPDATED", session, gateway }) as const
export const leave = (session: string) => ({ type: "SESSION.LEFT", session }) as const
export const down = (gateway: string) => ({ type: "GATEWAY.DOWN", gateway }) as const
export const loaded = (assignment: { gateway: string; region: string | null } | null, ...sessions: ReadonlyArray<[string, string]>) =>
  ({ type: "ROOM.LOADED", assignment, sessions: sessions.map(([session, gateway]) => ({ session, gateway })) }) as const
export const synced = (...sessions: ReadonlyArray<[string, string]>) =>
  ({ type: "SESSIONS.SYNCED", sessions: sessions.map(([session, gateway]) => ({ session, gateway })) }) as const
export const ttlTimer = { type: "xstate.after.assignmentTtl.room.assigned" } as const
export const graceTimer = { type: "xstate.after.drainGrace.room.draining" } as const

// Rooms in each state (comments: when the last event happened).
export const assigning = [requested] // 1_001_000
export const assignedEmpty = [requested, placed] // placed at 1_002_000
export const assignedWithA = [requested, placed, join("a")] // a joined at 1_003_000
export const draining = [requested, placed, join("a"), leave("a")] // draining since 1_004_000

export const persisted = (
  seq: number, from: RoomState, event: string, to: RoomState, gateway: string | null, sessions: number
): RoomEffect => ({ _tag: "Persist", history: { seq, from, event, to, gateway, sessions } })
/** A step that changes no state, gateway or membership but still stores the snapshot. */
export const stored: RoomEffect = { _tag: "Persist", history: undefined }
export const schedule = (timer: typeof ttlTimer | typeof graceTimer, at: number): RoomEffect => ({
  _tag: "Schedule", id: timer.type, timer: { event: timer, at }
})
export const cancel = (timer: typeof ttlTimer | typeof graceTimer): RoomEffect => ({ _tag: "Cancel", id: timer.type })
export const write = (gateway: string, region: string | null, users: number): RoomEffect => ({
  _tag: "WriteAssignment", gateway, region, users
})
export const touch: RoomEffect = { _tag: "TouchAssignment" }
/** The assignment released on the room's gateway, and the line that says why. */
export const released = (reason: string, message = "Released room assignment"): ReadonlyArray<RoomEffect> => [
  { _tag: "ReleaseAssignment", reason },
  { _tag: "Log", line: { level: "info", message, reason }, gateway: "gxy5" }
]
