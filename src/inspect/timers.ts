// What a room's pending timer will do, asked of the machine itself: a room
// keeps a stored deadline in every state that has a timer, but a guarded
// timer may change nothing when it fires (an `assigned` room with users
// keeps its gateway past ASSIGNMENT_TTL). The inspector shows a deadline
// only when its timer would act, and says what it would do.
import { transition } from "xstate"
import { initialRoomContext, roomMachine, type RoomState } from "../../machines/room.machine.ts"
import { eventLabel } from "../../machines/step.ts"

export interface PendingTimer {
  /** When it fires, epoch ms. */
  readonly at: number
  /** `after drainGrace`, as the history names it. */
  readonly event: string
  /** The state it takes the room to. */
  readonly to: string
  /** Whether it frees the room's gateway. */
  readonly releases: boolean
}

/**
 * What a row of the inspector knows of a room: the timer's guards are judged
 * on these alone (test/inspect/timers.test.ts checks that the machine's
 * timers are guarded by nothing else).
 */
export interface TimerInput {
  readonly state: string
  readonly gateway: string | null
  readonly region: string | null
  readonly sessions: number
  readonly deadline: number | null
}

type Outcome = Omit<PendingTimer, "at"> | null

const outcomes = new Map<string, Outcome>()
/** Distinct (state, gateway, region, sessions) seen; beyond this the memo starts over. */
const memoLimit = 10_000

const isRoomState = (state: string): state is RoomState => Object.hasOwn(roomMachine.root.states, state)

const outcomeOf = (input: TimerInput): Outcome => {
  if (!isRoomState(input.state)) return null
  const timers = roomMachine.root.states[input.state]!.after
  if (timers.length === 0) return null
  const context = {
    ...initialRoomContext(""),
    gateway: input.gateway,
    region: input.region,
    sessions: Array.from({ length: input.sessions }, (_, i) => `session-${i}`)
  }
  const current = roomMachine.resolveState({ value: input.state, context })
  for (const timer of timers) {
    const [next, actions] = transition(roomMachine, current, { type: timer.eventType, at: input.deadline ?? 0 } as never)
    const releases = actions.some((a) => a.type === "releaseAssignment")
    if (next.value !== input.state || releases) {
      return { event: eventLabel({ type: timer.eventType }), to: String(next.value), releases }
    }
  }
  return null
}

/** The room's pending timer if firing it would change the room; null when none would. */
export const pendingTimer = (input: TimerInput): PendingTimer | null => {
  if (input.deadline === null) return null
  const key = JSON.stringify([input.state, input.gateway, input.region, input.sessions])
  let outcome = outcomes.get(key)
  if (outcome === undefined && !outcomes.has(key)) {
    if (outcomes.size >= memoLimit) outcomes.clear()
    outcome = outcomeOf(input)
    outcomes.set(key, outcome)
  }
  return outcome === null || outcome === undefined ? null : { at: input.deadline, ...outcome }
}
