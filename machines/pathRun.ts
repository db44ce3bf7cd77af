// How a real room takes one of the machine's paths (machines/paths.ts), the
// same for the model-based suite (on the Room entity) and `npm run
// model-test` (against a deployment): a step into `assigning` happens with
// the balancer's answer, in one commit, so the room takes such steps as one
// move; for each move the pure interpreter says what the room then holds and
// which history rows it appends. What a move sends and what it checks is the
// runner's own.
import { kindOf, type LifecyclePath, type LifecycleStep, type ModelEvent, type ModelState } from "./paths.ts"
import { type ConfiguredMachine, type HistoryRow, newSnapshot, type RoomSnapshot, step } from "./step.ts"

/** The steps a real room takes at once, and what the interpreter expects of them. */
export interface Move {
  readonly steps: ReadonlyArray<LifecycleStep>
  /** The event the room is sent (the first step's). */
  readonly event: ModelEvent
  /** The balancer's answer within the move, when it starts an assignment. */
  readonly answer: "BALANCER.DONE" | "BALANCER.FAILED" | undefined
  /** Its events by kind: `SERVER.REQUESTED + BALANCER.DONE`. */
  readonly label: string
  /** When the room takes the move: its last event's time, from `t0`. */
  readonly at: number
  /** The machine's state after the move. */
  readonly state: ModelState
  /**
   * A room stored mid-assignment (by an older version, or a crash) and then
   * loaded: the room is stored as `assigning` holds it, then reloaded, and
   * has no history row for the step that started the assignment.
   */
  readonly storedMidAssignment: boolean
  /** The interpreter's snapshot after the move's first step (the room stored mid-assignment). */
  readonly assigning: RoomSnapshot
  /** The interpreter's snapshot after the move. */
  readonly snapshot: RoomSnapshot
  /** The history rows the move appends. */
  readonly history: ReadonlyArray<HistoryRow>
}

const isAnswer = (type: string): type is "BALANCER.DONE" | "BALANCER.FAILED" => type === "BALANCER.DONE" || type === "BALANCER.FAILED"

/** The path as `room` takes it, its events stepped at `t0` plus their time. */
export const movesOf = (machine: ConfiguredMachine, path: LifecyclePath, room: string, t0 = 0): ReadonlyArray<Move> => {
  const moves: Array<Move> = []
  let expected = newSnapshot(machine, room)
  const steps = path.steps
  for (let i = 0; i < steps.length;) {
    let n = 1
    while (steps[i + n - 1]!.state.value === "assigning" && i + n < steps.length) n++
    const group = steps.slice(i, i + n)
    const storedMidAssignment = group.length === 3 && group[1]!.event.type === "ROOM.LOADED"
    const history: Array<HistoryRow> = []
    let assigning = expected
    for (const [k, s] of group.entries()) {
      const stepped = step(machine, expected, s.event, t0 + s.event.at)
      if (k === 0) assigning = stepped.snapshot
      for (const e of stepped.effects) if (e._tag === "Persist" && e.history !== undefined && !(storedMidAssignment && k === 0)) history.push(e.history)
      expected = stepped.snapshot
    }
    const answer = group.map((s) => s.event.type).find(isAnswer)
    moves.push({
      steps: group,
      event: group[0]!.event,
      answer,
      label: group.map((s) => kindOf(s.event)).join(" + "),
      at: t0 + group.at(-1)!.event.at,
      state: group.at(-1)!.state,
      storedMidAssignment,
      assigning,
      snapshot: expected,
      history
    })
    i += n
  }
  return moves
}

/**
 * The model's gateway names as the real room's gateways: where the balancer
 * chose for real, its choice stands for the model's; a gateway the model
 * names for the first time stands for the one the room is on.
 */
export const gatewayNames = () => {
  const names = new Map<string, string>()
  return {
    /** The real gateway for a model's name (the name itself until one is learnt). */
    real: (model: string) => names.get(model) ?? model,
    /** After a move that leaves the room on a gateway: the room is on `found`. */
    learn: (move: Move, found: string) => {
      const model = move.state.context.gateway
      if (model !== null && (move.answer === "BALANCER.DONE" || !names.has(model))) names.set(model, found)
    }
  }
}
