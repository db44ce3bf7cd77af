// Draws the machine definition as SVG from its layout and highlights one
// room on it: its current state and the transition it last took.
import { type Definition, type Layout, layoutMachine, lineHeight, type Point } from "./layout.ts"

const svgNs = "http://www.w3.org/2000/svg"
export const diagramFont = "12px ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace"

const el = <K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, parent?: Element) => {
  const node = document.createElementNS(svgNs, name)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  parent?.appendChild(node)
  return node
}

/** A smooth path through dagre's points (quadratic joins at the midpoints). */
const pathOf = (points: ReadonlyArray<Point>) => {
  if (points.length === 0) return ""
  const [first, ...rest] = points
  let d = `M${first!.x},${first!.y}`
  for (let i = 0; i < rest.length - 1; i++) {
    const p = rest[i]!
    const n = rest[i + 1]!
    d += ` Q${p.x},${p.y} ${(p.x + n.x) / 2},${(p.y + n.y) / 2}`
  }
  const last = rest.at(-1)
  return last === undefined ? d : `${d} L${last.x},${last.y}`
}

/** A loop: cubic segments from the state out to its label and back. */
const loopPath = (p: ReadonlyArray<Point>) =>
  `M${p[0]!.x},${p[0]!.y} C${p[1]!.x},${p[1]!.y} ${p[2]!.x},${p[2]!.y} ${p[3]!.x},${p[3]!.y} C${p[4]!.x},${p[4]!.y} ${p[5]!.x},${p[5]!.y} ${p[6]!.x},${p[6]!.y}`

const measurer = () => {
  const context = document.createElement("canvas").getContext("2d")!
  context.font = diagramFont
  return (text: string) => context.measureText(text).width
}

export interface Highlight {
  readonly state: string | null
  readonly last: { readonly from: string; readonly event: string; readonly to: string } | null
}

export class MachineDiagram {
  readonly layout: Layout
  readonly svg: SVGSVGElement

  constructor(readonly definition: Definition, host: HTMLElement) {
    this.layout = layoutMachine(definition, measurer())
    const { width, height } = this.layout
    this.svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": `The ${definition.id} machine` })
    const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, el("defs", {}, this.svg))
    el("path", { d: "M0,0 L10,5 L0,10 z" }, marker)

    const edges = el("g", { class: "edges" }, this.svg)
    el("path", { class: "edge start", d: pathOf(this.layout.start.points), "marker-end": "url(#arrow)" }, edges)
    const { box } = this.layout.start
    el("circle", { class: "start-dot", cx: box.x + box.width / 2, cy: box.y + box.height / 2, r: box.width / 2 }, this.svg)

    for (const e of this.layout.edges) {
      const group = el("g", { class: "edge", "data-from": e.from, "data-to": e.to }, edges)
      el("path", { d: e.loop ? loopPath(e.points) : pathOf(e.points), "marker-end": "url(#arrow)" }, group)
    }
    // Labels after every edge line, so no line is drawn over a label.
    const labels = el("g", { class: "labels" }, this.svg)
    for (const e of this.layout.edges) {
      const group = el("g", { class: "label", "data-from": e.from, "data-to": e.to }, labels)
      el("rect", { x: e.label.x, y: e.label.y, width: e.label.width, height: e.label.height, rx: 3 }, group)
      const text = el("text", { x: e.label.x + e.label.width / 2, y: e.label.y + 4, "text-anchor": "middle" }, group)
      e.lines.forEach((line, i) => {
        const span = el("tspan", { x: e.label.x + e.label.width / 2, y: e.label.y + 4 + (i + 1) * lineHeight - 4, "data-event": line.event }, text)
        span.textContent = line.text
      })
    }
    const states = el("g", { class: "states" }, this.svg)
    for (const s of this.layout.states) {
      const group = el("g", { class: "state", "data-state": s.name }, states)
      el("rect", { x: s.x, y: s.y, width: s.width, height: s.height, rx: 8 }, group)
      const label = el("text", { x: s.x + s.width / 2, y: s.y + s.height / 2, "text-anchor": "middle", "dominant-baseline": "central" }, group)
      label.textContent = s.name
      if (s.name === definition.initial) group.classList.add("initial")
    }
    host.replaceChildren(this.svg)
  }

  highlight(h: Highlight) {
    for (const node of this.svg.querySelectorAll(".current, .taken")) node.classList.remove("current", "taken")
    if (h.state !== null) this.svg.querySelector(`.state[data-state="${CSS.escape(h.state)}"]`)?.classList.add("current")
    const last = h.last
    if (last === null) return
    const selector = `[data-from="${CSS.escape(last.from)}"][data-to="${CSS.escape(last.to)}"]`
    const label = this.svg.querySelector(`.label${selector}`)
    // Only a transition the definition has is highlighted (a restored room's "restored" step is not one).
    const lines = label === null ? [] : [...label.querySelectorAll("tspan")].filter((span) => span.getAttribute("data-event") === last.event)
    if (lines.length === 0) return
    for (const line of lines) line.classList.add("taken")
    label!.classList.add("taken")
    this.svg.querySelector(`.edge${selector}`)?.classList.add("taken")
  }
}
