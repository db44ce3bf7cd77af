// npm run bench [-- --quick] [-- --out DIR]: the service (scale mode) and a
// bare node:http baseline under the same traffic, in one run. Prints a
// Markdown table and writes DIR/http.json (default bench/results).
// With --processes N (and DATABASE_URL): one process against N of one
// deployment instead (cluster.ts).
import { Schema } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { join } from "node:path"
import { type Burst, classStart, type RouteFigures, unstoredKeepalives } from "./burst.ts"
import { compareProcesses } from "./cluster.ts"
import { prepare } from "./prepare.ts"
import { errorsOf, type Scenario, scenarios, type Sizes } from "./scenarios.ts"
import { type CpuMeter, cpuMeter, perRequest } from "./cpu.ts"
import { root, rssMiB, type Running, startBaseline, startService } from "./processes.ts"
import { firstRequests, fullScale, quickScale, roomsAtScale, scaleLines } from "./roomsAtScale.ts"

const quick = process.argv.includes("--quick")
const outIndex = process.argv.indexOf("--out")
const outDir = outIndex > 0 ? process.argv[outIndex + 1]! : join(root, "bench/results")

const sizes: Sizes = quick
  ? { newRooms: 1_000, liveRooms: 100, usersPerRoom: 10, seconds: 4, connections: 10 }
  : { newRooms: 10_000, liveRooms: 1_000, usersPerRoom: 10, seconds: 15, connections: 20 }

// --only NAME: that scenario alone ("class-start burst" for the burst), e.g. to profile it.
const onlyIndex = process.argv.indexOf("--only")
const only = onlyIndex > 0 ? process.argv[onlyIndex + 1] : undefined

// --burst-once: the burst at its size only, not also at twice it.
const burstOnce = process.argv.includes("--burst-once")

// BENCH_SERVICE_ENV: more settings for the service, as a JSON object of strings.
const serviceEnv = (() => {
  const text = process.env.BENCH_SERVICE_ENV
  if (text === undefined || text === "") return {}
  try {
    return Schema.decodeUnknownSync(Schema.fromJsonString(Schema.Record(Schema.String, Schema.String)))(text)
  } catch {
    console.error(`BENCH_SERVICE_ENV must be a JSON object of strings, e.g. {"KEEPALIVE_BATCH_WINDOW":"0"}; got ${text}`)
    process.exit(2)
  }
})()

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
  /** CPU time per request, µs: of the target's process, and of its Postgres backends (0 when embedded). */
  readonly cpuUs: number
  readonly postgresCpuUs: number
}

const measure = async (scenario: Scenario, target: Row["target"], running: Running, meter: CpuMeter): Promise<Row> => {
  const before = meter.read()
  const result = await scenario.run(running.base, sizes)
  const cpu = perRequest(before, meter.read(), result.requests.total)
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
    peakRssMiB: memory.peak,
    cpuUs: cpu.process,
    postgresCpuUs: cpu.postgres
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
    DEAD_SESSION_PERIOD: "1h",
    ...serviceEnv
  })
  const baseline = await startBaseline(sizes.liveRooms)
  const meters = { service: cpuMeter(service.child.pid!, service.postgres), baseline: cpuMeter(baseline.child.pid!, undefined) }
  const idle = { service: rssMiB(service.child.pid!).now, baseline: rssMiB(baseline.child.pid!).now }
  const rows: Array<Row> = []
  const burstRows: Array<RouteFigures & { readonly target: Row["target"] }> = []
  const burstCpu: Array<{ readonly target: Row["target"]; readonly size: string; readonly cpuUs: number; readonly postgresCpuUs: number; readonly clientCpuUs: number; readonly requests: number }> = []
  /** Per burst size: users whose last keepalive the service accepted, and of them how many it does not show stored. */
  const burstStored: Array<{ readonly size: string; readonly users: number; readonly unstored: number }> = []
  try {
    await prepare(service.base, sizes, burst.rooms)
    for (const scenario of scenarios.filter((s) => only === undefined || s.name === only)) {
      rows.push(await measure(scenario, "service", service, meters.service))
      rows.push(await measure(scenario, "baseline", baseline, meters.baseline))
    }
    // the burst at its size, and (unless quick) at twice it, each against the service and the baseline
    const bursts: ReadonlyArray<readonly [string, Burst]> = quick || burstOnce ? [["×1", burst]] : [["×1", burst], ["×2", { ...burst, users: burst.users * 2 }]]
    for (const [size, b] of only === undefined || only === "class-start burst" ? bursts : []) {
      for (const [target, running] of [["service", service], ["baseline", baseline]] as const) {
        const before = meters[target].read()
        const client = process.cpuUsage()
        const accepted = new Map<string, number>()
        const figures = await classStart(running.base, b, size === "×2" ? 1 : 0, accepted)
        const requests = figures.reduce((n, f) => n + f.requests, 0)
        const clientUsed = process.cpuUsage(client)
        const clientCpuUs = Math.round((clientUsed.user + clientUsed.system) / requests)
        burstCpu.push({ target, size, requests, clientCpuUs, ...perRequestNamed(perRequest(before, meters[target].read(), requests)) })
        if (target === "service") burstStored.push({ size, users: accepted.size, unstored: await unstoredKeepalives(running.base, accepted) })
        for (const f of figures) burstRows.push({ ...f, route: `${size} ${f.route}`, target })
      }
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
    "| scenario | target | req/s | vs baseline | CPU µs/req | vs baseline | Postgres µs/req | p50 ms | p99 ms | p99.9 ms | errors | RSS MiB | peak RSS MiB |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  ]
  for (const row of rows) {
    const base = rows.find((r) => r.scenario === row.scenario && r.target === "baseline")!
    const ratio = row.target === "service" ? `${Math.round((100 * row.requestsPerSecond) / Math.max(1, base.requestsPerSecond))}%` : ""
    const cpuRatio = row.target === "service" ? `${(row.cpuUs / Math.max(1, base.cpuUs)).toFixed(1)}×` : ""
    const pg = row.target === "service" && service.postgres !== undefined ? String(row.postgresCpuUs) : ""
    lines.push(
      `| ${row.scenario} | ${row.target} | ${row.requestsPerSecond} | ${ratio} | ${row.cpuUs} | ${cpuRatio} | ${pg} | ${row.p50} | ${row.p99} | ${row.p999} | ${row.errors} | ${row.rssMiB} | ${row.peakRssMiB} |`
    )
  }
  lines.push(
    "",
    `Class-start burst: ${burst.rooms} rooms, ${burst.users} users joining within ${burst.joinSeconds} s, a keepalive every 10 s, ${burst.seconds} s in all.`,
    "",
    "| route | target | requests | p50 ms | p99 ms | max ms | errors | JSON 503s | other errors |",
    "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ...burstRows.map((r) => `| ${r.route} | ${r.target} | ${r.requests} | ${r.p50} | ${r.p99} | ${r.max} | ${r.errors} | ${r.shed} | ${r.others} |`),
    "",
    "| burst | target | requests | CPU µs/req | Postgres µs/req | the bench's client µs/req |",
    "|---|---|---:|---:|---:|---:|",
    ...burstCpu.map((c) => `| ${c.size} | ${c.target} | ${c.requests} | ${c.cpuUs} | ${c.target === "service" && service.postgres !== undefined ? c.postgresCpuUs : ""} | ${c.clientCpuUs} |`),
    "",
    ...burstStored.map((s) => `Burst ${s.size}: ${s.users} users had a keepalive accepted; the last one of ${s.unstored} of them is not stored.`),
    "",
    `Idle RSS right after start: service ${idle.service} MiB, baseline ${idle.baseline} MiB.`,
    "RSS is the service's resident memory after the scenario; its peak includes start-up (a fresh embedded database runs initdb).",
    `Run took ${Math.round((Date.now() - started) / 1000)} s.`
  )
  console.log(lines.join("\n"))
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, "http.json"), JSON.stringify({ quick, machine, database: service.database, sizes, rows, burst, burstRows, burstCpu, burstStored, idle }, null, 2))
  // at its size the burst must pass without an error; at twice it, every refusal must be a JSON 503 with Retry-After;
  // at either, every accepted keepalive must be stored
  const failed = [
    ...burstStored.filter((s) => s.unstored > 0).map((s) => `class-start burst ${s.size} (accepted keepalives not stored)`),
    ...rows.filter((r) => r.target === "service" && r.errors > 0).map((r) => r.scenario),
    ...burstRows.filter((r) => r.target === "service" && r.route.startsWith("×1") && r.errors > 0).map((r) => `class-start burst ${r.route}`),
    ...burstRows.filter((r) => r.target === "service" && r.route.startsWith("×2") && r.errors > r.shed).map((r) => `class-start burst ${r.route} (not JSON 503s)`)
  ]
  if (failed.length > 0) {
    console.error(`errors in: ${failed.join(", ")}`)
    process.exitCode = 1
  }
}

// --only "rooms at scale": 100,000 rooms, a new room's cost at 2,000 and 12,000 assignments, memory (roomsAtScale.ts).
const atScale = async () => {
  const sizes = quick ? quickScale : fullScale
  const service = await startService({ SCALE: "true", MAX_SERVER_CAPACITY: "1000000", ASSIGNMENT_TTL: "10m", CLEAN_SESSIONS_INTERVAL: "10m", DEAD_SESSION_PERIOD: "1h" })
  const baseline = await startBaseline(1)
  try {
    const report = await roomsAtScale(service, cpuMeter(service.child.pid!, service.postgres), sizes, (line) => console.error(line))
    const meter = cpuMeter(baseline.child.pid!, undefined)
    const before = meter.read()
    const result = await firstRequests(baseline.base, Array.from({ length: sizes.measured }, (_, i) => 1 + i), sizes.connections)
    const cpu = perRequest(before, meter.read(), result.requests.total)
    const lines = [`# Rooms at scale: ${service.database}`, "", ...scaleLines(report, { cpuUs: cpu.process })]
    console.log(lines.join("\n"))
    mkdirSync(outDir, { recursive: true })
    writeFileSync(join(outDir, "scale.json"), JSON.stringify({ quick, database: service.database, report, baselineCpuUs: cpu.process }, null, 2))
    if (report.placements.some((p) => p.errors > 0)) process.exitCode = 1
  } finally {
    await service.stop()
    await baseline.stop()
  }
}

const perRequestNamed = (cpu: { readonly process: number; readonly postgres: number }) => ({ cpuUs: cpu.process, postgresCpuUs: cpu.postgres })

const processesIndex = process.argv.indexOf("--processes")
if (processesIndex > 0) await compareProcesses(Number(process.argv[processesIndex + 1]), sizes, outDir, quick)
else if (only === "rooms at scale") await atScale()
else await main()
