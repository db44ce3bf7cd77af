// The processes a benchmark run measures: the service (embedded database in
// a fresh directory, or a fresh database on DATABASE_URL's server) and the
// bare-Node baseline, each in its own process, plus their peak memory.
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort, root } from "../../test/support/process.ts"

export { root }

export interface Running {
  readonly child: ChildProcess
  readonly base: string
  readonly stop: () => Promise<void>
}

/** Resident memory of a process in MiB: now (VmRSS) and its peak so far (VmHWM). */
export const rssMiB = (pid: number): { readonly now: number; readonly peak: number } => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const read = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024)
  return { now: read("VmRSS"), peak: read("VmHWM") }
}

const stopper = (child: ChildProcess, cleanup: () => void = () => {}) => async () => {
  if (child.exitCode === null) {
    child.kill("SIGTERM")
    await once(child, "exit")
  }
  cleanup()
}

// --profile DIR: the service runs under `node --cpu-prof`, its profile written to DIR when it stops.
const profileIndex = process.argv.indexOf("--profile")
const profileDir = profileIndex > 0 ? process.argv[profileIndex + 1] : undefined

const node = (script: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  spawn(process.execPath, [...(profileDir !== undefined && script === "src/main.ts" ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), "--import", "tsx", script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })

const waitReady = async (url: string, child: ChildProcess, output: () => string) => {
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited:\n${output()}`)
    try {
      if ((await fetch(url)).status === 200) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the service was not ready within 60 s:\n${output()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export interface Database {
  readonly env: Record<string, string>
  readonly describe: string
  readonly drop: () => void
  /** The Postgres server and database name (undefined: embedded, inside the service's own process). */
  readonly postgres: { readonly serverUrl: string; readonly name: string } | undefined
}

/** A fresh database: an embedded one in a temporary directory, or a new one on DATABASE_URL's server, seeded. */
export const freshDatabase = (): Database => {
  const serverUrl = process.env.DATABASE_URL
  if (serverUrl === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-bench-"))
    return { env: { DATA_DIR: join(dir, "data") }, describe: "embedded (PGlite)", drop: () => rmSync(dir, { recursive: true, force: true }), postgres: undefined }
  }
  const name = `room_orchestrator_bench_${process.pid}_${Date.now()}`
  const admin = new URL(serverUrl)
  const psql = (sql: string) =>
    execFileSync("psql", ["-h", admin.hostname, "-p", admin.port || "5432", "-U", admin.username || "postgres", "-d", admin.pathname.slice(1) || "postgres", "-qc", sql])
  psql(`CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const env = { DATABASE_URL: url.toString() }
  execFileSync(process.execPath, ["--import", "tsx", "src/cli/seed.ts"], { cwd: root, env: { ...process.env, ...env, LOG_LEVEL: "warn" } })
  return {
    env,
    describe: `Postgres at ${admin.hostname}:${admin.port || 5432}`,
    drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    postgres: { serverUrl, name }
  }
}

/** The service in scale mode on `database`; answers when /ready. */
export const startServiceOn = async (database: Database, env: Record<string, string>): Promise<Running> => {
  const port = await freePort()
  const child = node("src/main.ts", [], { ...database.env, LISTEN_ADDRESS: `127.0.0.1:${port}`, LOG_LEVEL: "warn", ...env })
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const base = `http://127.0.0.1:${port}`
  await waitReady(`${base}/ready`, child, () => output)
  return { child, base, stop: stopper(child) }
}

/** The service in scale mode, on a fresh database of its own; answers when /ready. */
export const startService = async (env: Record<string, string>): Promise<Running & { database: string; postgres: Database["postgres"] }> => {
  const database = freshDatabase()
  const running = await startServiceOn(database, env)
  return {
    ...running,
    database: database.describe,
    postgres: database.postgres,
    stop: async () => {
      await running.stop()
      database.drop()
    }
  }
}

/** `count` processes of one deployment on one fresh Postgres database, each a cluster runner. */
export const startDeployment = async (count: number, env: Record<string, string>) => {
  const database = freshDatabase()
  const members = await Promise.all(Array.from({ length: count }, async () =>
    startServiceOn(database, { ...env, CLUSTER_RUNNER_ADDRESS: `127.0.0.1:${await freePort()}` })))
  // until every shard is held and each process holds some
  const deadline = Date.now() + 60_000
  for (;;) {
    const shares = await Promise.all(members.map(async (m) => ((await (await fetch(`${m.base}/ready`)).json()) as { rooms: { shards: number; of: number } }).rooms))
    if (shares.reduce((n, s) => n + s.shards, 0) === shares[0]!.of && shares.every((s) => s.shards > 0)) break
    if (Date.now() > deadline) throw new Error(`shards not settled: ${JSON.stringify(shares)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    members,
    database: database.describe,
    stop: async () => {
      await Promise.all(members.map((m) => m.stop()))
      database.drop()
    }
  }
}

/** The bare node:http baseline; `rooms` sizes its GET /rooms answer. */
export const startBaseline = async (rooms: number): Promise<Running> => {
  const port = await freePort()
  const child = node("bench/http/baseline.ts", [String(port), String(rooms)], {})
  const [line] = (await once(child.stdout!, "data")) as [Buffer]
  if (!line.toString().startsWith("LISTENING")) throw new Error(`baseline failed: ${line}`)
  return { child, base: `http://127.0.0.1:${port}`, stop: stopper(child) }
}
