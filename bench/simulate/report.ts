// The numbers as people read them (a Markdown table per trace) and as
// programs read them (simulation.json). Factual only: no verdicts.
import type { Trace } from "./traces.ts"
import type { Outcome } from "./world.ts"

export interface TraceResult {
  readonly trace: Trace
  readonly outcomes: ReadonlyArray<Outcome>
}

const peaks = (o: Outcome) => Object.values(o.peakRatio)
const ratio = (n: number) => n.toFixed(2)
const thousands = (n: number) => Math.round(n).toLocaleString("en-US")
const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`

const regional = (trace: Trace, o: Outcome) =>
  trace.regions.length === 0 || o.regionalAsked === 0
    ? "—"
    : `${((100 * o.regionalMatched) / o.regionalAsked).toFixed(1)}% (${o.regionalMatched}/${o.regionalAsked})`

const predicted = (o: Outcome) =>
  o.prediction === undefined
    ? "—"
    : `${o.prediction.meanUsers.toFixed(1)} users, ${(100 * o.prediction.share).toFixed(0)}% (${thousands(o.prediction.assignments)} assignments)`

const describe = (trace: Trace) => {
  const parts = [`${minutes(trace.duration)} measured`]
  if (trace.warmup > 0) parts.push(`after ${minutes(trace.warmup)} warm-up`)
  parts.push(`${thousands(trace.rooms)} rooms`, `${thousands(trace.users.length)} users`)
  for (const o of trace.outages) parts.push(`${o.gateway} down ${minutes(o.downAt)}–${minutes(o.upAt)}`)
  if (trace.regions.length > 0) parts.push(`SERVER_REGIONS ${trace.regions.map((p) => `${p.country}:${p.gateways.join(",")}`).join(";")}`)
  return parts.join(", ")
}

export const markdown = (results: ReadonlyArray<TraceResult>): string => {
  const lines: Array<string> = []
  for (const { trace, outcomes } of results) {
    lines.push(
      `### ${trace.name}`,
      "",
      describe(trace),
      "",
      "| strategy | peak load/capacity: max (per-gateway min–max) | user-s over capacity | of which avoidable | split rooms | regional match | reassignments | size prediction error |",
      "|---|---|---:|---:|---:|---:|---:|---:|"
    )
    for (const o of outcomes) {
      const p = peaks(o)
      lines.push(
        `| ${o.strategy} | ${ratio(Math.max(...p))} (${ratio(Math.min(...p))}–${ratio(Math.max(...p))}) | ${thousands(o.overCapacityUserSeconds)} | ${thousands(o.avoidableUserSeconds)} | ${o.splitRooms} | ${regional(trace, o)} | ${o.reassignments} | ${predicted(o)} |`
      )
    }
    lines.push("")
  }
  return lines.join("\n")
}

export const json = (results: ReadonlyArray<TraceResult>, settings: Readonly<Record<string, unknown>>) =>
  JSON.stringify(
    {
      settings,
      traces: results.map(({ trace, outcomes }) => ({
        name: trace.name,
        durationSeconds: trace.duration / 1_000,
        warmupSeconds: trace.warmup / 1_000,
        rooms: trace.rooms,
        users: trace.users.length,
        outages: trace.outages,
        regions: trace.regions,
        results: outcomes.map((o) => ({
          strategy: o.strategy,
          peakLoadRatio: Math.max(...peaks(o)),
          peakLoadRatioSpread: [Math.min(...peaks(o)), Math.max(...peaks(o))],
          perGatewayPeakRatio: o.peakRatio,
          userSecondsOverCapacity: o.overCapacityUserSeconds,
          avoidableUserSecondsOverCapacity: o.avoidableUserSeconds,
          splitRooms: o.splitRooms,
          regionalMatchRate: o.regionalAsked === 0 ? null : o.regionalMatched / o.regionalAsked,
          regionalFirstRequests: o.regionalAsked,
          regionalMatched: o.regionalMatched,
          reassignments: o.reassignments,
          placements: o.placements,
          refusedRequests: o.refused,
          displacedUserSeconds: o.displacedUserSeconds,
          counters: o.counters,
          sizePredictionError: o.prediction ?? null
        }))
      }))
    },
    null,
    2
  ) + "\n"
