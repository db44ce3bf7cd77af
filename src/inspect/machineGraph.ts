// The room machine's definition as data (states and transitions) and as a
// Mermaid state diagram, both derived from the machine itself.
import type { AnyStateMachine } from "xstate"

export interface GraphTransition {
  readonly from: string
  readonly to: string
  /** The event, or `after <delay>` for a timer. */
  readonly event: string
  readonly guard: string | undefined
  readonly actions: ReadonlyArray<string>
}

export interface MachineGraph {
  readonly id: string
  readonly initial: string
  readonly states: ReadonlyArray<string>
  /** Transitions that change state or re-enter it (those that only update context are left out). */
  readonly transitions: ReadonlyArray<GraphTransition>
}

const eventName = (type: string) => {
  const m = /^xstate\.after\.([^.]+)\./.exec(type)
  return m ? `after ${m[1]}` : type
}

// A named guard or action, or a combination of guards such as and(["isEmpty", "renewalDue"]).
const nameOf = (x: unknown): string => {
  if (typeof x === "string") return x
  if ((typeof x === "object" || typeof x === "function") && x !== null) {
    const combined = x as { name?: string; guards?: ReadonlyArray<unknown>; type?: unknown }
    if (Array.isArray(combined.guards)) {
      const joiner = combined.name === "or" ? " || " : " && "
      return combined.name === "not" ? `!${nameOf(combined.guards[0])}` : combined.guards.map(nameOf).join(joiner)
    }
    if (combined.type !== undefined) return String(combined.type)
  }
  return "inline"
}

export const machineGraph = (machine: AnyStateMachine): MachineGraph => {
  const transitions: Array<GraphTransition> = []
  for (const [from, node] of Object.entries(machine.root.states)) {
    for (const [event, list] of node.transitions) {
      for (const t of list) {
        const target = t.target?.[0]?.key
        if (target === undefined) continue
        transitions.push({
          from,
          to: target,
          event: eventName(event),
          guard: t.guard === undefined ? undefined : nameOf(t.guard),
          actions: t.actions.map(nameOf).filter((a) => a !== "xstate.assign")
        })
      }
    }
  }
  return {
    id: machine.id,
    initial: String(machine.root.initial?.target?.[0]?.key ?? Object.keys(machine.root.states)[0]),
    states: Object.keys(machine.root.states),
    transitions
  }
}

/**
 * A Mermaid `stateDiagram-v2`. Parallel edges share one label with each
 * event on its own line and its guard on the next: narrow labels, which the
 * renderer places without overlapping (long one-line labels around
 * assigned/draining used to overlap).
 */
export const toMermaid = (graph: MachineGraph): string => {
  const edges = new Map<string, Array<string>>()
  for (const t of graph.transitions) {
    const key = `${t.from} --> ${t.to}`
    const label = t.guard === undefined ? t.event : `${t.event}<br/>[${t.guard}]`
    edges.set(key, [...(edges.get(key) ?? []), label])
  }
  const lines = ["stateDiagram-v2", `  [*] --> ${graph.initial}`]
  for (const [edge, labels] of edges) lines.push(`  ${edge}: ${[...new Set(labels)].join("<br/>")}`)
  return lines.join("\n") + "\n"
}
