// Lays the machine definition out for drawing: states as boxes, one edge per
// (from, to) pair whose label lists each event (and guard) on its own line. dagre places
// edge labels as nodes of their own, so labels never cover each other or a
// state; `overlaps` checks exactly that (tests run it on the real definition).
import dagre from "@dagrejs/dagre"

export interface DefinitionTransition {
  readonly from: string
  readonly to: string
  readonly event: string
  readonly guard: string | null
}

export interface Definition {
  readonly id: string
  readonly initial: string
  readonly states: ReadonlyArray<string>
  readonly transitions: ReadonlyArray<DefinitionTransition>
}

export interface Point {
  readonly x: number
  readonly y: number
}

/** A box by its top-left corner. */
export interface Box {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

export interface LabelLine {
  readonly text: string
  readonly event: string
}

export interface LaidState extends Box {
  readonly name: string
}

export interface LaidEdge {
  readonly from: string
  readonly to: string
  readonly lines: ReadonlyArray<LabelLine>
  readonly label: Box
  readonly points: ReadonlyArray<Point>
}

export interface Layout {
  readonly width: number
  readonly height: number
  readonly states: ReadonlyArray<LaidState>
  readonly edges: ReadonlyArray<LaidEdge>
  /** The initial pseudo-state (a dot) and its arrow into the initial state. */
  readonly start: { readonly box: Box; readonly points: ReadonlyArray<Point> }
}

/** Width of a text in the diagram's font, in pixels. */
export type Measure = (text: string) => number

export const lineHeight = 16
const labelPadding = { x: 6, y: 4 }
const statePadding = { x: 18, height: 34 }
const startSize = 14
// Never a state's name: state names are keys of the definition, this one has a space.
const startNode = "[* start]"

/** One label per (from, to): each distinct event on its own line, its guard (if any) on the next. */
export const edgesOf = (def: Definition): ReadonlyArray<{ from: string; to: string; lines: ReadonlyArray<LabelLine> }> => {
  const edges = new Map<string, { from: string; to: string; lines: Array<LabelLine>; seen: Set<string> }>()
  for (const t of def.transitions) {
    const key = JSON.stringify([t.from, t.to])
    const edge = edges.get(key) ?? { from: t.from, to: t.to, lines: [], seen: new Set<string>() }
    edges.set(key, edge)
    const seen = JSON.stringify([t.event, t.guard])
    if (edge.seen.has(seen)) continue
    edge.seen.add(seen)
    // A guard goes on a line of its own under its event: narrower labels, a more compact drawing.
    edge.lines.push({ text: t.event, event: t.event })
    if (t.guard !== null) edge.lines.push({ text: `[${t.guard}]`, event: t.event })
  }
  return [...edges.values()].map(({ from, to, lines }) => ({ from, to, lines }))
}

const topLeft = (n: { x?: number; y?: number; width: number; height: number }): Box => ({
  x: (n.x ?? 0) - n.width / 2,
  y: (n.y ?? 0) - n.height / 2,
  width: n.width,
  height: n.height
})

export const layoutMachine = (def: Definition, measure: Measure): Layout => {
  const g = new dagre.graphlib.Graph({ multigraph: true })
  g.setGraph({ rankdir: "TB", nodesep: 36, edgesep: 24, ranksep: 44, marginx: 12, marginy: 12 })
  g.setDefaultEdgeLabel(() => ({}))

  for (const name of def.states) {
    g.setNode(name, { width: Math.ceil(measure(name)) + 2 * statePadding.x, height: statePadding.height })
  }
  g.setNode(startNode, { width: startSize, height: startSize })
  g.setEdge(startNode, def.initial, { width: 0, height: 0 }, "start")

  const edges = edgesOf(def)
  edges.forEach((e, i) => {
    const width = Math.ceil(Math.max(...e.lines.map((l) => measure(l.text)))) + 2 * labelPadding.x
    const height = e.lines.length * lineHeight + 2 * labelPadding.y
    g.setEdge(e.from, e.to, { width, height, labelpos: "c" }, `e${i}`)
  })

  dagre.layout(g)

  const laidEdges = edges.map((e, i): LaidEdge => {
    const label = g.edge({ v: e.from, w: e.to, name: `e${i}` }) as { x: number; y: number; width: number; height: number; points: Array<Point> }
    return { from: e.from, to: e.to, lines: e.lines, label: topLeft(label), points: label.points }
  })
  const graph = g.graph() as { width?: number; height?: number }
  return {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    states: def.states.map((name) => ({ name, ...topLeft(g.node(name) as { x: number; y: number; width: number; height: number }) })),
    edges: laidEdges,
    start: {
      box: topLeft(g.node(startNode) as { x: number; y: number; width: number; height: number }),
      points: (g.edge({ v: startNode, w: def.initial, name: "start" }) as { points: Array<Point> }).points
    }
  }
}

const intersect = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height

/** Every pair of boxes (edge labels, states, the start dot) that overlap; empty when the drawing is clean. */
export const overlaps = (layout: Layout): ReadonlyArray<readonly [string, string]> => {
  const boxes: Array<[string, Box]> = [
    ["start", layout.start.box],
    ...layout.states.map((s): [string, Box] => [`state ${s.name}`, s]),
    ...layout.edges.map((e): [string, Box] => [`label ${e.from}→${e.to}`, e.label])
  ]
  const found: Array<readonly [string, string]> = []
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      if (intersect(boxes[i]![1], boxes[j]![1])) found.push([boxes[i]![0], boxes[j]![0]])
    }
  }
  return found
}
