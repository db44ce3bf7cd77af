// The wire shapes of inspection: a stored room machine and a live room change
// become the same JSON row, so the page merges one into the other.
import { type HistoryRow, type MachineRow, storedTimers } from "../db/inspectStore.ts"
import { nextStateTimer } from "../../machines/step.ts"
import { roomIdOut } from "../domain/room.ts"
import type { CatalogChange } from "../rooms/catalog.ts"
import type { RoomChange } from "../rooms/changes.ts"
import type { MachineGraph } from "./machineGraph.ts"
import { pendingTimer, type TimerInput } from "./timers.ts"

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export interface TransitionView {
  readonly seq: number
  readonly from: string
  readonly event: string
  readonly to: string
  readonly gateway: string | null
  readonly sessions?: number | null
  readonly at: string
}

export const transitionView = (t: Omit<HistoryRow, "sessions"> & { readonly sessions?: number | null }): TransitionView =>
  ({ ...t, at: new Date(t.at).toISOString() })

/** The timer that would act when it fires (null while none would), with its time as ISO 8601. */
export const timerView = (row: TimerInput) => {
  const timer = pendingTimer(row)
  return timer === null ? null : { ...timer, at: new Date(timer.at).toISOString() }
}

/** Room ids as everywhere else: numbers for numeric ids unless ROOM_IDS_AS_STRINGS; the deadline as the room's status gives it. */
export const machineView = (asStrings: boolean) => (m: MachineRow) => {
  const deadline = nextStateTimer({ timers: storedTimers(m) })?.at ?? null
  return {
    room: roomIdOut(m.room, asStrings),
    name: m.name,
    disabled: m.disabled,
    state: m.state,
    gateway: m.gateway,
    region: m.region,
    sessions: m.sessions,
    deadline: iso(deadline),
    timer: timerView({ ...m, deadline }),
    seq: m.seq,
    updated_at: iso(m.updated),
    last: m.last_seq === null || m.last_from === null || m.last_event === null || m.last_to === null || m.last_at === null
      ? null
      : transitionView({ seq: m.last_seq, from: m.last_from, event: m.last_event, to: m.last_to, gateway: m.last_gateway, at: m.last_at })
  }
}

/** A change as the stream sends it: the row's live fields, and `last` only when a transition was taken. */
export const changeView = (asStrings: boolean) => (c: RoomChange) => ({
  room: roomIdOut(c.room, asStrings),
  state: c.state,
  gateway: c.gateway,
  region: c.region,
  sessions: c.sessions,
  deadline: iso(c.deadline),
  timer: timerView(c),
  seq: c.seq,
  updated_at: iso(c.at),
  ...(c.transition === null ? {} : { last: transitionView(c.transition) })
})

/** A room the catalog gained or changed (its listing fields), or lost (`removed`). */
export const catalogView = (asStrings: boolean) => (c: CatalogChange) =>
  c.row === undefined
    ? { room: roomIdOut(c.room, asStrings), removed: true }
    : { room: roomIdOut(c.room, asStrings), name: c.row.name, disabled: c.row.disabled, kind: c.row.kind, removed: false }

export const graphView = (g: MachineGraph) => ({
  id: g.id,
  initial: g.initial,
  states: g.states,
  transitions: g.transitions.map((t) => ({ ...t, guard: t.guard ?? null }))
})
