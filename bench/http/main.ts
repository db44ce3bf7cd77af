// npm run bench [-- --quick] [-- --out DIR]: the service (scale mode) and a
// bare node:http baseline under the same traffic, in one run. Prints a
// Markdown table and writes DIR/http.json (default bench/results).
// With --processes N (and DATABASE_URL): one process against N of one
// deployment instead (cluster.ts).
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { join } from "node:path"
import { type Burst, classStart, type RouteFigures } from "./burst.ts"
import { compareProcesses } from "./cluster.ts"
import { prepare } from "./prepare.ts"
import { errorsOf, type Scenario, scenarios, type Sizes } from "./scenarios.ts"
import { root, rssMiB, type Running, startBaseline, startService } from "./processes.ts"

const quick = process.argv.includes("--quick")
const outIndex = process.argv.indexOf("--out")
const outDir = outIndex > 0 ? process.argv[outIndex + 1]! : join(root, "bench/results")

const sizes: Sizes = quick
  ? { newRooms: 1_000, liveRooms: 100, usersPerRoom: 10, seconds: 4, connections: 10 }
  : { newRooms: 10_000, liveRooms: 1_000, usersPerRoom: 10, seconds: 15, connections: 20 }

// --only NAME: that scenario alone ("class-start burst" for the burst), e.g. to profile it.
const onlyIndex = process.argv.indexOf("--only")
const only = onlyIndex > 0 ? process.argv[onlyIndex + 1] : undefined

// The class-start burst: quick is a tenth of it.
const burst: Burst = quick
  ? { rooms: 50, users: 1_600, joinSeconds: 10, seconds: 25 }
  : { rooms: 500, users: 16_000, joinSeconds: 60, seconds: 90 }

interface Row {
  readonly scenario: string
  readonly target: "service" | "baseline"
  readonly requestsPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly p999: number
  readonly errors: number
  readonly requests: number
  /** Resident memory at the end of the scenario, and the peak so far. */
  readonly rssMiB: number
  readonly peakRssMiB: number
}

const measure = async (scenario: Scenario, target: Row["target"], running: Running): Promise<Row> => {
  const result = await scenario.run(running.base, sizes)
  const memory = rssMiB(running.child.pid!)
  return {
    scenario: scenario.name,
    target,
    requestsPerSecond: Math.round(result.requests.total / Math.max(result.duration, 0.001)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    errors: errorsOf(result),
    requests: result.requests.total,
    rssMiB: memory.now,
    peakRssMiB: memory.peak
  }
}

const main = async () => {
  const started = Date.now()
  // Reservations outlive the run (renewals would otherwise write every 30 s per room).
  const service = await startService({
    SCALE: "true",
    MAX_SERVER_CAPACITY: "1000000",
    ASSIGNMENT_TTL: "10m",
    CLEAN_SESSIONS_INTERVAL: "10m",
    DEAD_SESSION_PERIOD: "1h"
  })
  const baseline = await startBaseline(sizes.liveRooms)
  const idle = { service: rssMiB(service.child.pid!).now, baseline: rssMiB(baseline.child.pid!).now }
  const rows: Array<Row> = []
  const burstRows: Array<RouteFigures & { readonly target: Row["target"] }> = []
  try {
    await prepare(service.base, sizes, burst.rooms)
    for (const scenario of scenarios.filter((s) => only === undefined || s.name === only)) {
      rows.push(await measure(scenario, "service", service))
      rows.push(await measure(scenario, "baseline", baseline))
    }
    for (const [target, running] of only === undefined || only === "class-start burst" ? [["service", service], ["baseline", baseline]] as const : []) {
      for (const figures of await classStart(running.base, burst)) burstRows.push({ ...figures, target })
    }
  } finally {
    await service.stop()
    await baseline.stop()
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  const lines = [
    `# HTTP benchmark (${quick ? "quick" : "full"}): ${service.database}, ${sizes.connections} connections, ${sizes.seconds} s per scenario`,
    `Machine: ${machine}. Live rooms: ${sizes.liveRooms} × ${sizes.usersPerRoom} users.`,
    "",
    "| scenario | target | req/s | vs baseline | p50 ms | p99 ms | p99.9 ms | errors | RSS MiB | peak RSS MiB |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  ]
  for (const row of rows) {
    const base = rows.find((r) => r.scenario === row.scenario && r.target === "baseline")!
    const ratio = row.target === "service" ? `${Math.round((100 * row.requestsPerSecond) / Math.max(1, base.requestsPerSecond))}%` : ""
    lines.push(`| ${row.scenario} | ${row.target} | ${row.requestsPerSecond} | ${ratio} | ${row.p50} | ${row.p99} | ${row.p999} | ${row.errors} | ${row.rssMiB} | ${row.peakRssMiB} |`)
  }
  lines.push(
    "",
    `Class-start burst: ${burst.rooms} rooms, ${burst.users} users joining within ${burst.joinSeconds} s, a keepalive every 10 s, ${burst.seconds} s in all.`,
    "",
    "| route | target | requests | p50 ms | p99 ms | max ms | errors |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...burstRows.map((r) => `| ${r.route} | ${r.target} | ${r.requests} | ${r.p50} | ${r.p99} | ${r.max} | ${r.errors} |`),
    "",
    `Idle RSS right after start: service ${idle.service} MiB, baseline ${idle.baseline} MiB.`,
    "RSS is the service's resident memory after the scenario; its peak includes start-up (a fresh embedded database runs initdb).",
    `Run took ${Math.round((Date.now() - started) / 1000)} s.`
  )
  console.log(lines.join("\n"))
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, "http.json"), JSON.stringify({ quick, machine, database: service.database, sizes, rows, burst, burstRows, idle }, null, 2))
  const failed = [
    ...rows.filter((r) => r.target === "service" && r.errors > 0).map((r) => r.scenario),
    ...burstRows.filter((r) => r.target === "service" && r.errors > 0).map((r) => `class-start burst ${r.route}`)
  ]
  if (failed.length > 0) {
    console.error(`errors in: ${failed.join(", ")}`)
    process.exitCode = 1
  }
}

const processesIndex = process.argv.indexOf("--processes")
if (processesIndex > 0) await compareProcesses(Number(process.argv[processesIndex + 1]), sizes, outDir, quick)
else await main()
