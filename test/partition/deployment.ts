// Three service processes in the lab: each in its own network namespace,
// reaching Postgres through its own relay (test/partition/relay.ts) and the
// broker on the lab's host address, and each under libfaketime with a clock
// offset file the harness rewrites (a host whose clock is stepped). The
// database is a private Postgres with `track_commit_timestamp`, so the
// checker knows when each step committed, on the same clock as the load
// generator's.
import { Effect, Exit, Hash, Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import pg from "pg"
import { mosquittoPath } from "../support/broker.ts"
import { migratedWithRooms } from "../support/deployment.ts"
import { privatePostgresWith } from "../support/postgresServer.ts"
import { root as projectRoot } from "../support/process.ts"
import type { Lab } from "./network.ts"

/** libfaketime's preload library (Debian's `faketime` package), when installed. */
export const faketimeLibrary = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
  "/usr/lib/faketime/libfaketimeMT.so.1"
].find((p) => existsSync(p))

export const httpPort = 8081
const runnerPort = 34431

export interface LabDeployment {
  /** The base URL of runner `i`. */
  readonly base: (i: number) => string
  readonly pids: () => ReadonlyArray<number | undefined>
  readonly pause: (i: number) => void
  readonly resume: (i: number) => void
  /** Steps runner `i`'s wall clock to `offset` seconds from the true time (monotonic time is untouched). */
  readonly clock: (i: number, offsetSeconds: number) => void
  /** Sets the one-way delay, each direction, between runner `i` and Postgres. */
  readonly databaseDelay: (i: number, ms: number) => void
  /** The relay port runner `i` reaches Postgres at (on the lab's host address). */
  readonly databasePort: (i: number) => number
  readonly brokerPort: number
  /** Which runner holds each room's shard lock now (as Postgres's advisory locks say). */
  readonly hosts: (rooms: ReadonlyArray<string>) => Promise<ReadonlyMap<string, number>>
  /** Waits until every runner answers /ready and together they hold every shard. */
  readonly settled: (timeoutMs: number) => Promise<void>
  readonly query: <A>(text: string, params?: ReadonlyArray<unknown>) => Promise<ReadonlyArray<A>>
  /** Runs `f` in one repeatable-read transaction: everything it reads is one moment of the database. */
  readonly snapshot: <A>(f: (query: LabDeployment["query"]) => Promise<A>) => Promise<A>
  /** Each runner's output so far. */
  readonly output: (i: number) => string
  readonly close: () => Promise<void>
}

export interface DeploymentOptions {
  /** The source tree the runners run (the project, or a patched copy). */
  readonly root?: string | undefined
  readonly rooms: number
  readonly env: Readonly<Record<string, string>>
  /** Where each runner's output goes (a file per runner). */
  readonly logDir: string
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const startDeployment = async (lab: Lab, options: DeploymentOptions): Promise<LabDeployment> => {
  const scope = Effect.runSync(Scope.make())
  const closers: Array<() => Promise<void> | void> = [() => Effect.runPromise(Scope.close(scope, Exit.void))]
  const close = async () => {
    for (const c of closers.reverse()) {
      try {
        await c()
      } catch {
        // best effort: the rest still has to go
      }
    }
    closers.length = 0
  }
  try {
    // the database, migrated and seeded: demo gateways and rooms, and the lab's rooms 5001…
    const server = await Effect.runPromise(Scope.provide(scope)(privatePostgresWith({ track_commit_timestamp: "on", max_connections: "200" })))
    const admin = new pg.Client({ connectionString: server.url })
    await admin.connect()
    await admin.query("CREATE DATABASE partition")
    await admin.end()
    const local = new URL(server.url)
    local.pathname = "/partition"
    await Effect.runPromise(migratedWithRooms(local.toString(), options.rooms, { name: "Partition", code: "PT" }))
    const pool = new pg.Pool({ connectionString: local.toString(), max: 2 })
    closers.push(() => pool.end())

    // one relay per runner, on the lab's host address
    const relay = spawn(process.execPath, ["--import", "tsx", join(projectRoot, "test/partition/relay.ts"), lab.host, String(server.port), String(lab.runners.length)], {
      cwd: projectRoot,
      stdio: ["pipe", "pipe", "inherit"]
    })
    closers.push(() => stopChild(relay, "SIGTERM"))
    const [line] = await Promise.race([
      once(createInterface({ input: relay.stdout! }), "line") as Promise<[string]>,
      sleep(30_000).then(() => ["timeout"] as [string])
    ])
    if (!line.startsWith("ready ")) throw new Error(`the database relay did not start: ${line}`)
    const relayPorts = line.slice(6).split(" ").map(Number)
    // which runner each of Postgres's client ports serves
    const runnerOfPort = new Map<number, number>()
    createInterface({ input: relay.stdout! }).on("line", (l) => {
      const m = /^connection (\d+) (\d+)$/.exec(l)
      if (m !== null) runnerOfPort.set(Number(m[2]), Number(m[1]))
    })

    // the broker, on the lab's host address
    if (mosquittoPath === undefined) throw new Error("mosquitto is not installed")
    const brokerDir = mkdtempSync(join(tmpdir(), "room-orchestrator-partition-mqtt-"))
    closers.push(() => rmSync(brokerDir, { recursive: true, force: true }))
    const brokerPort = 18830 + (process.pid % 1000)
    writeFileSync(join(brokerDir, "mosquitto.conf"), `listener ${brokerPort} ${lab.host}\nallow_anonymous true\npersistence false\n`)
    const broker = spawn(mosquittoPath, ["-c", join(brokerDir, "mosquitto.conf")], { stdio: ["ignore", "ignore", "pipe"] })
    closers.push(() => stopChild(broker, "SIGTERM"))

    // the runners
    const clockFiles = lab.runners.map((r) => join(options.logDir, `clock-${r.index}`))
    const children: Array<ChildProcess | undefined> = lab.runners.map(() => undefined)
    const outputs = lab.runners.map((r) => join(options.logDir, `runner-${r.index}.log`))
    const root = options.root ?? projectRoot
    for (const r of lab.runners) {
      writeFileSync(clockFiles[r.index]!, "+0s\n")
      const databaseUrl = `postgres://postgres@${lab.host}:${relayPorts[r.index]}/partition`
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        DATABASE_URL: databaseUrl,
        MQTT_URL: `mqtt://${lab.host}:${brokerPort}`,
        LISTEN_ADDRESS: `${r.address}:${httpPort}`,
        CLUSTER_RUNNER_ADDRESS: `${r.address}:${runnerPort}`,
        CLUSTER_NETWORK: "trusted",
        AUTH: "none",
        SCALE: "true",
        SEED: "none",
        ...(faketimeLibrary === undefined ? {} : {
          LD_PRELOAD: faketimeLibrary,
          FAKETIME_TIMESTAMP_FILE: clockFiles[r.index]!,
          FAKETIME_CACHE_DURATION: "1",
          FAKETIME_DONT_FAKE_MONOTONIC: "1"
        }),
        ...options.env
      }
      const out = openSync(outputs[r.index]!, "a")
      const child = spawn("ip", ["netns", "exec", r.namespace, process.execPath, "--import", "tsx", "src/main.ts", "--stop-with-parent"], {
        cwd: root,
        env,
        stdio: ["ignore", out, out]
      })
      closeSync(out)
      children[r.index] = child
    }
    closers.push(() => Promise.all(children.map((c) => (c === undefined ? undefined : stopChild(c, "SIGKILL")))).then(() => undefined))

    const base = (i: number) => `http://${lab.runners[i]!.address}:${httpPort}`
    const readyShare = async (i: number) => {
      try {
        const r = await fetch(`${base(i)}/ready`, { signal: AbortSignal.timeout(2_000) })
        if (r.status !== 200) return undefined
        return ((await r.json()) as { rooms: { shards: number; of: number } }).rooms
      } catch {
        return undefined
      }
    }
    const settled = async (timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        for (const [i, c] of children.entries()) {
          if (c?.exitCode !== null) throw new Error(`runner ${i} exited:\n${readFileSync(outputs[i]!, "utf8").slice(-4000)}`)
        }
        const shares = await Promise.all(lab.runners.map((r) => readyShare(r.index)))
        if (shares.every((s) => s !== undefined && s.shards > 0) && shares.reduce((n, s) => n + s!.shards, 0) === shares[0]!.of) return
        if (Date.now() > deadline) throw new Error(`the runners did not settle within ${timeoutMs} ms: ${JSON.stringify(shares)}`)
        await sleep(250)
      }
    }

    const hosts = async (rooms: ReadonlyArray<string>) => {
      const locks = await pool.query<{ shard: number; port: number }>(`
        SELECT l.objid::int - 1000000 AS shard, a.client_port AS port
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.objid::bigint BETWEEN 1000001 AND 1999999`)
      const holder = new Map(locks.rows.map((l) => [l.shard, runnerOfPort.get(l.port)]))
      const out = new Map<string, number>()
      for (const room of rooms) {
        const runner = holder.get(shardOf(room))
        if (runner !== undefined) out.set(room, runner)
      }
      return out
    }

    return {
      base,
      hosts,
      pids: () => children.map((c) => c?.pid),
      pause: (i) => void children[i]?.kill("SIGSTOP"),
      resume: (i) => void children[i]?.kill("SIGCONT"),
      clock: (i, offset) => writeFileSync(clockFiles[i]!, `${offset >= 0 ? "+" : ""}${offset}s\n`),
      databaseDelay: (i, ms) => void relay.stdin!.write(`delay ${i} ${ms}\n`),
      databasePort: (i) => relayPorts[i]!,
      brokerPort,
      settled,
      query: async <A>(text: string, params: ReadonlyArray<unknown> = []) => (await pool.query(text, [...params])).rows as ReadonlyArray<A>,
      snapshot: async (f) => {
        const client = await pool.connect()
        try {
          await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
          return await f(async (text, params = []) => (await client.query(text, [...params])).rows)
        } finally {
          await client.query("ROLLBACK").catch(() => undefined)
          client.release()
        }
      },
      output: (i) => (existsSync(outputs[i]!) ? readFileSync(outputs[i]!, "utf8") : ""),
      close
    }
  } catch (e) {
    await close()
    throw e
  }
}

// The cluster's own routing (effect/cluster: Hash.string of the entity id over
// the shards of the "default" group), so the harness knows a room's shard;
// its advisory lock number is 1,000,000 + the shard.
const shards = 300
export const shardOf = (room: string) => Math.abs(Hash.string(room) % shards) + 1

/** Stops a child (continuing it first: a stopped process cannot act on SIGTERM) and waits for its exit. */
const stopChild = async (child: ChildProcess, signal: NodeJS.Signals) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill("SIGCONT")
  child.kill(signal)
  const exited = once(child, "exit")
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
  await exited
  clearTimeout(timer)
}
