// Load over time as a hand-written SVG: one panel per strategy, stacked, one
// line per gateway and the capacity dashed, so a trace's strategies compare
// at a glance on the same scale.
import type { Outage } from "./traces.ts"

export interface Panel {
  readonly title: string
  /** Live users per gateway, one value per sample. */
  readonly series: ReadonlyArray<ReadonlyArray<number>>
  readonly sampleStep: number
}

export interface Chart {
  readonly title: string
  readonly gateways: ReadonlyArray<string>
  readonly capacity: number
  readonly duration: number
  readonly outages: ReadonlyArray<Outage>
  readonly panels: ReadonlyArray<Panel>
}

const maxPoints = 400
const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#e7ba52"]
const width = 960
const left = 64
const plotWidth = 730
const plotHeight = 150
const panelHeight = 220
const top = 56

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
const fmt = (n: number) => (Math.round(n * 10) / 10).toString()

/** Buckets of samples reduced to their maximum: peaks must survive downsampling. */
const downsample = (values: ReadonlyArray<number>, sampleStep: number) => {
  const bucket = Math.max(1, Math.ceil(values.length / maxPoints))
  const points: Array<{ readonly t: number; readonly v: number }> = []
  for (let i = 0; i < values.length; i += bucket) {
    points.push({ t: i * sampleStep, v: Math.max(...values.slice(i, i + bucket)) })
  }
  return points
}

/** A round axis step giving about `count` ticks. */
const niceStep = (span: number, count: number) => {
  const raw = span / count
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  return ([1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude)
}

export const renderChart = (chart: Chart): string => {
  const highest = Math.max(chart.capacity, ...chart.panels.flatMap((p) => p.series.map((s) => Math.max(0, ...s))))
  const yStep = niceStep(Math.max(chart.capacity * 1.2, highest * 1.05), 5)
  const yMax = Math.ceil(Math.max(chart.capacity * 1.2, highest * 1.05) / yStep) * yStep
  const minutes = chart.duration / 60_000
  const xStep = niceStep(minutes, 8)
  const x = (t: number) => left + (t / chart.duration) * plotWidth
  const height = top + chart.panels.length * panelHeight + 10
  const first = chart.panels[0]
  const samples = first?.series[0]?.length ?? 1
  const bucketSeconds = (Math.max(1, Math.ceil(samples / maxPoints)) * (first?.sampleStep ?? 1_000)) / 1_000
  const out: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escape(chart.title)}: live users per gateway</text>`,
    `<text x="${left}" y="40" fill="#555">one line per gateway, each point the maximum over ${fmt(bucketSeconds)} s; dashed: capacity ${chart.capacity}</text>`
  ]
  chart.panels.forEach((panel, index) => {
    const y0 = top + index * panelHeight + 22
    const y = (v: number) => y0 + plotHeight - (v / yMax) * plotHeight
    out.push(`<g>`, `<text x="${left}" y="${y0 - 8}" font-size="13" font-weight="bold">${escape(panel.title)}</text>`)
    for (const o of chart.outages) {
      const from = x(Math.max(0, o.downAt))
      const to = x(Math.min(chart.duration, o.upAt))
      out.push(`<rect x="${fmt(from)}" y="${y0}" width="${fmt(to - from)}" height="${plotHeight}" fill="#eee"/>`)
      out.push(`<text x="${fmt(from + 4)}" y="${y0 + 12}" fill="#777">${escape(o.gateway)} down</text>`)
    }
    for (let v = 0; v <= yMax; v += yStep) {
      out.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="#ddd"/>`)
      out.push(`<text x="${left - 6}" y="${fmt(y(v) + 4)}" text-anchor="end">${v}</text>`)
    }
    for (let m = 0; m <= minutes + 1e-9; m += xStep) {
      out.push(`<text x="${fmt(x(m * 60_000))}" y="${y0 + plotHeight + 14}" text-anchor="middle">${fmt(m)}</text>`)
    }
    out.push(`<text x="${left + plotWidth / 2}" y="${y0 + plotHeight + 30}" text-anchor="middle" fill="#555">time (min)</text>`)
    out.push(`<text transform="translate(${left - 44} ${y0 + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="#555">live users</text>`)
    panel.series.forEach((values, g) => {
      const points = downsample(values, panel.sampleStep).map((p) => `${fmt(x(p.t))},${fmt(y(p.v))}`).join(" ")
      out.push(`<polyline fill="none" stroke="${palette[g % palette.length]}" stroke-width="1.2" points="${points}"/>`)
    })
    out.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${fmt(y(chart.capacity))}" y2="${fmt(y(chart.capacity))}" stroke="black" stroke-dasharray="6 4"/>`)
    out.push(`<rect x="${left}" y="${y0}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`, `</g>`)
  })
  // One legend serves every panel: the colours are the same throughout.
  const legendX = left + plotWidth + 20
  chart.gateways.forEach((name, g) => {
    const ly = top + 30 + g * 16
    out.push(`<line x1="${legendX}" x2="${legendX + 18}" y1="${ly}" y2="${ly}" stroke="${palette[g % palette.length]}" stroke-width="3"/>`)
    out.push(`<text x="${legendX + 24}" y="${ly + 4}">${escape(name)}</text>`)
  })
  const ly = top + 30 + chart.gateways.length * 16
  out.push(`<line x1="${legendX}" x2="${legendX + 18}" y1="${ly}" y2="${ly}" stroke="black" stroke-dasharray="6 4"/>`)
  out.push(`<text x="${legendX + 24}" y="${ly + 4}">capacity</text>`, `</svg>`)
  return out.join("\n") + "\n"
}
