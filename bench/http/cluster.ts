// npm run bench -- --processes N: the same scenarios against one process
// (the default deployment) and against N processes of one deployment
// (cluster runners on one Postgres), with the load spread over all of them.
// On one machine the N processes share its cores: the point is what each
// extra process costs, not a speed-up. Writes DIR/processes.json.
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { join } from "node:path"
import { prepare } from "./prepare.ts"
import { freshDatabase, rssMiB, startDeployment, startServiceOn } from "./processes.ts"
import { errorsOf, scenarios, type Sizes } from "./scenarios.ts"

interface Row {
  readonly scenario: string
  readonly processes: number
  readonly requestsPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
  /** Resident memory summed over the processes, MiB. */
  readonly rssMiB: number
}

const env = { SCALE: "true", MAX_SERVER_CAPACITY: "1000000", CLEAN_SESSIONS_INTERVAL: "10m", DEAD_SESSION_PERIOD: "1h" }

const runScenarios = async (bases: ReadonlyArray<string>, pids: ReadonlyArray<number>, sizes: Sizes, processes: number) => {
  await prepare(bases[0]!, sizes)
  const rows: Array<Row> = []
  for (const scenario of scenarios) {
    const result = await scenario.run(bases, sizes)
    rows.push({
      scenario: scenario.name,
      processes,
      requestsPerSecond: Math.round(result.requests.total / Math.max(result.duration, 0.001)),
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: errorsOf(result),
      rssMiB: pids.reduce((sum, pid) => sum + rssMiB(pid).now, 0)
    })
  }
  return rows
}

export const compareProcesses = async (count: number, sizes: Sizes, outDir: string, quick: boolean) => {
  if (process.env.DATABASE_URL === undefined || !Number.isInteger(count) || count < 2) {
    console.error("usage: DATABASE_URL=postgres://… npm run bench -- --processes N   (N ≥ 2; several processes share a real Postgres)")
    process.exitCode = 2
    return
  }
  const started = Date.now()
  const rows: Array<Row> = []

  const database = freshDatabase()
  const single = await startServiceOn(database, env)
  try {
    rows.push(...await runScenarios([single.base], [single.child.pid!], sizes, 1))
  } finally {
    await single.stop()
    database.drop()
  }

  const deployment = await startDeployment(count, env)
  try {
    rows.push(...await runScenarios(deployment.members.map((m) => m.base), deployment.members.map((m) => m.child.pid!), sizes, count))
  } finally {
    await deployment.stop()
  }

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  const lines = [
    `# One process against ${count} (${quick ? "quick" : "full"}): ${deployment.database}, ${sizes.connections} connections spread over the processes, ${sizes.seconds} s per scenario`,
    `Machine: ${machine}. Live rooms: ${sizes.liveRooms} × ${sizes.usersPerRoom} users.`,
    "",
    `| scenario | req/s, 1 process | req/s, ${count} processes | factor | p50 ms, 1 / ${count} | p99 ms, 1 / ${count} | errors, 1 / ${count} | RSS MiB, 1 / ${count} (sum) |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|"
  ]
  for (const scenario of scenarios) {
    const one = rows.find((r) => r.scenario === scenario.name && r.processes === 1)!
    const many = rows.find((r) => r.scenario === scenario.name && r.processes === count)!
    const factor = (many.requestsPerSecond / Math.max(1, one.requestsPerSecond)).toFixed(2)
    lines.push(
      `| ${scenario.name} | ${one.requestsPerSecond} | ${many.requestsPerSecond} | ${factor} | ${one.p50} / ${many.p50} | ${one.p99} / ${many.p99} | ${one.errors} / ${many.errors} | ${one.rssMiB} / ${many.rssMiB} |`
    )
  }
  lines.push("", `Run took ${Math.round((Date.now() - started) / 1000)} s.`)
  console.log(lines.join("\n"))
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, "processes.json"), JSON.stringify({ quick, machine, count, sizes, rows }, null, 2))
  if (rows.some((r) => r.errors > 0)) {
    console.error(`errors in: ${rows.filter((r) => r.errors > 0).map((r) => `${r.scenario} (${r.processes})`).join(", ")}`)
    process.exitCode = 1
  }
}
