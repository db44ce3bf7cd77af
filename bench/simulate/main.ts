// Compares room placement strategies on simulated traffic: our real balancer
// and room machine against models of the Go service's three generations.
// Usage: node --import tsx bench/simulate/main.ts [--quick] [--out DIR]
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { renderChart } from "./chart.ts"
import { json, markdown, type TraceResult } from "./report.ts"
import { strategies } from "./strategies.ts"
import { avgRoomOccupancy, buildTraces, gatewayCapacity, gatewayNames, type Scale } from "./traces.ts"
import { simulate } from "./world.ts"

const usage = "usage: node --import tsx bench/simulate/main.ts [--quick] [--out DIR]"

const parseArgs = (args: ReadonlyArray<string>) => {
  let quick = false
  let out = join("bench", "results")
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === "--quick") quick = true
    else if (arg === "--out" && args[i + 1] !== undefined) out = args[++i]!
    else if (arg?.startsWith("--out=")) out = arg.slice("--out=".length)
    else {
      console.error(usage)
      process.exit(2)
    }
  }
  return { quick, out }
}

const { quick, out } = parseArgs(process.argv.slice(2))
// --quick: a sixth of the time with half the rooms and a coarser step, for a smoke run.
const scale: Scale = quick ? { time: 1 / 6, rooms: 0.5 } : { time: 1, rooms: 1 }
const sampleStep = quick ? 2_000 : 1_000
const began = performance.now()

const results: Array<TraceResult> = []
for (const trace of buildTraces(scale)) {
  const outcomes = strategies.map((strategy) => {
    const t0 = performance.now()
    const outcome = simulate(trace, strategy, sampleStep)
    console.error(`${trace.name} / ${strategy.name}: ${((performance.now() - t0) / 1_000).toFixed(1)} s`)
    return outcome
  })
  results.push({ trace, outcomes })
}

mkdirSync(out, { recursive: true })
const settings = {
  quick,
  scale,
  sampleStepSeconds: sampleStep / 1_000,
  gateways: gatewayNames,
  capacity: gatewayCapacity,
  avgRoomOccupancy
}
writeFileSync(join(out, "simulation.json"), json(results, settings))
for (const { trace, outcomes } of results) {
  const svg = renderChart({
    title: trace.name,
    gateways: gatewayNames,
    capacity: gatewayCapacity,
    duration: trace.duration,
    outages: trace.outages,
    panels: outcomes.map((o) => ({ title: o.strategy, series: o.series, sampleStep: o.sampleStep }))
  })
  writeFileSync(join(out, `simulation-${trace.slug}.svg`), svg)
}
process.stdout.write(markdown(results))
console.error(`done in ${((performance.now() - began) / 1_000).toFixed(1)} s; wrote ${join(out, "simulation.json")} and ${results.length} charts`)
