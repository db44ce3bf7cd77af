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
  /** A state's loop to itself: `points` are cubic Bézier segments, not a polyline. */
  readonly loop?: true
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
/** Room around the drawing for arrowheads and strokes. */
const frameMargin = 14
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
  const labelBox = (e: (typeof edges)[number]) => ({
    width: Math.ceil(Math.max(...e.lines.map((l) => measure(l.text)))) + 2 * labelPadding.x,
    height: e.lines.length * lineHeight + 2 * labelPadding.y
  })
  // dagre draws a state's loop to itself far from the state: loops are placed afterwards (placeLoops).
  edges.forEach((e, i) => {
    if (e.from !== e.to) g.setEdge(e.from, e.to, { ...labelBox(e), labelpos: "c" }, `e${i}`)
  })

  dagre.layout(g)

  const laidStates = def.states.map((name) => ({ name, ...topLeft(g.node(name) as { x: number; y: number; width: number; height: number }) }))
  const start = {
    box: topLeft(g.node(startNode) as { x: number; y: number; width: number; height: number }),
    points: (g.edge({ v: startNode, w: def.initial, name: "start" }) as { points: Array<Point> }).points
  }
  const laidEdges = edges.map((e, i): LaidEdge | undefined => {
    if (e.from === e.to) return undefined
    const label = g.edge({ v: e.from, w: e.to, name: `e${i}` }) as { x: number; y: number; width: number; height: number; points: Array<Point> }
    return { from: e.from, to: e.to, lines: e.lines, label: topLeft(label), points: label.points }
  })
  const placed = placeLoops(
    edges.flatMap((e, i) => (e.from === e.to ? [{ index: i, state: laidStates.find((s) => s.name === e.from)!, lines: e.lines, size: labelBox(e) }] : [])),
    [start.box, ...laidStates, ...laidEdges.flatMap((e) => (e === undefined ? [] : [e.label]))],
    [start.points, ...laidEdges.flatMap((e) => (e === undefined ? [] : [e.points]))]
  )
  return framed({ width: 0, height: 0, states: laidStates, edges: laidEdges.map((e, i) => e ?? placed.get(i)!), start })
}

/** Space between a state and its loop's label. */
const loopGap = 18

const inside = (p: Point, b: Box, pad: number) => p.x >= b.x - pad && p.x <= b.x + b.width + pad && p.y >= b.y - pad && p.y <= b.y + b.height + pad

/** How many pixels (about) of a polyline run through a box (checked every 2 px along it). */
const covered = (points: ReadonlyArray<Point>, b: Box) => {
  let n = 0
  for (let i = 1; i < points.length; i++) {
    const [a, c] = [points[i - 1]!, points[i]!]
    const steps = Math.max(1, Math.ceil(Math.hypot(c.x - a.x, c.y - a.y) / 2))
    for (let k = 1; k <= steps; k++) {
      if (inside({ x: a.x + ((c.x - a.x) * k) / steps, y: a.y + ((c.y - a.y) * k) / steps }, b, 3)) n += 2
    }
  }
  return n
}

/**
 * Each loop's label beside its state, where it covers no state, label or
 * edge (right first, then left, a little up or down, then further out), and
 * the loop drawn from the state's side out to the label and back: the
 * points are cubic Bézier segments (start, two controls, apex, two controls, end).
 */
const placeLoops = (
  loops: ReadonlyArray<{ index: number; state: LaidState; lines: ReadonlyArray<LabelLine>; size: { width: number; height: number } }>,
  boxes: ReadonlyArray<Box>,
  paths: ReadonlyArray<ReadonlyArray<Point>>
): Map<number, LaidEdge> => {
  const taken = [...boxes]
  const placed = new Map<number, LaidEdge>()
  for (const loop of loops) {
    const s = loop.state
    const { width, height } = loop.size
    const cy = s.y + s.height / 2
    const candidates: Array<{ side: 1 | -1; label: Box }> = []
    for (let gap = loopGap; gap <= loopGap + 60; gap += 12) {
      for (const shift of [0, -0.25, 0.25, -0.5, 0.5, -0.75, 0.75, -1, 1]) {
        for (const side of [1, -1] as const) {
          const x = side === 1 ? s.x + s.width + gap : s.x - gap - width
          candidates.push({ side, label: { x, y: cy - height / 2 + shift * height, width, height } })
        }
      }
    }
    const clear = (b: Box) => !taken.some((t) => b.x < t.x + t.width + 3 && t.x < b.x + b.width + 3 && b.y < t.y + t.height + 3 && t.y < b.y + b.height + 3)
    // Near the state and covering no box; of those, the one hiding the least of other edges (the nearest first on a tie).
    let best: { side: 1 | -1; label: Box } | undefined
    let bestCover = Infinity
    for (const c of candidates) {
      if (!clear(c.label)) continue
      const cover = paths.reduce((n, p) => n + covered(p, c.label), 0)
      if (cover < bestCover) [best, bestCover] = [c, cover]
      if (cover === 0) break
    }
    // Nowhere near is free: beyond everything on the right.
    const { side, label } = best ?? { side: 1 as const, label: { x: Math.max(...taken.map((t) => t.x + t.width)) + loopGap, y: cy - height / 2, width, height } }
    taken.push(label)
    const sx = side === 1 ? s.x + s.width : s.x
    const ax = side === 1 ? label.x : label.x + label.width
    const ay = label.y + label.height / 2
    const spread = Math.max(14, Math.min(label.height / 2, 30))
    const mid = (sx + ax) / 2
    placed.set(loop.index, {
      from: s.name,
      to: s.name,
      lines: loop.lines,
      label,
      loop: true,
      points: [
        { x: sx, y: cy - 8 },
        { x: mid, y: cy - 8 - spread },
        { x: ax, y: ay - spread },
        { x: ax, y: ay },
        { x: ax, y: ay + spread },
        { x: mid, y: cy + 8 + spread },
        { x: sx, y: cy + 8 }
      ]
    })
  }
  return placed
}

/**
 * The drawing moved and sized to hold everything it draws (states, labels,
 * every point of every edge, loops included) with a margin.
 */
const framed = (layout: Layout): Layout => {
  const boxes: Array<Box> = [layout.start.box, ...layout.states, ...layout.edges.map((e) => e.label)]
  const points: Array<Point> = [...layout.start.points, ...layout.edges.flatMap((e) => e.points)]
  const xs = [...boxes.flatMap((b) => [b.x, b.x + b.width]), ...points.map((p) => p.x)]
  const ys = [...boxes.flatMap((b) => [b.y, b.y + b.height]), ...points.map((p) => p.y)]
  const dx = frameMargin - Math.min(...xs)
  const dy = frameMargin - Math.min(...ys)
  const box = <B extends Box>(b: B): B => ({ ...b, x: b.x + dx, y: b.y + dy })
  const point = (p: Point): Point => ({ x: p.x + dx, y: p.y + dy })
  return {
    width: Math.ceil(Math.max(...xs) + dx + frameMargin),
    height: Math.ceil(Math.max(...ys) + dy + frameMargin),
    states: layout.states.map(box),
    edges: layout.edges.map((e) => ({ ...e, label: box(e.label), points: e.points.map(point) })),
    start: { box: box(layout.start.box), points: layout.start.points.map(point) }
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
