// Several service processes on one fresh database of the real Postgres, as
// an operator runs them: each its own HTTP port and cluster runner port. A
// test starts, stops (SIGTERM or kill -9) and restarts them, and sends
// requests through any of them.
import { Effect, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { postgresLayer } from "../../src/db/database.ts"
import { makeMigrator } from "../../src/db/migrator.ts"
import { seedDemoData } from "../../src/db/seed.ts"
import { freshPostgresUrl } from "./database.ts"
import { freePort, type ServiceProcess, startService } from "./process.ts"

export interface Member {
  readonly http: number
  readonly runner: number
  process: ServiceProcess | undefined
}

export interface Deployment {
  readonly url: string
  readonly members: ReadonlyArray<Member>
  /** Starts member `i` (again) and waits until it answers /ready. */
  readonly start: (i: number) => Promise<void>
  /** Stops member `i` with `signal`; answers how long it took to exit, ms. */
  readonly stop: (i: number, signal: "SIGTERM" | "SIGKILL") => Promise<number>
  /** The base URL of member `i`. */
  readonly base: (i: number) => string
  /** Indexes of the members running now. */
  readonly running: () => ReadonlyArray<number>
  /** Waits until the running members (but `leaving`) together hold every shard. */
  readonly settled: (timeoutMs?: number, leaving?: number) => Promise<void>
  /** Every member's output, for a failure message. */
  readonly output: () => string
  /** Runs SQL on the deployment's database. */
  readonly query: <A extends object>(text: string, ...params: ReadonlyArray<unknown>) => Promise<ReadonlyArray<A>>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Migrates the database at `url` and seeds it: the demo gateways and rooms,
 * and `rooms` more numbered from 5001 (`<name> <i>`, join codes `<code>0001`…).
 */
export const migratedWithRooms = (url: string, rooms: number, label: { readonly name: string; readonly code: string }) =>
  Effect.gen(function*() {
    yield* (yield* makeMigrator()).up
    yield* seedDemoData
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(
      `INSERT INTO rooms (room, name, join_code)
       SELECT (5000 + i)::text, $2 || ' ' || i, $3 || lpad(i::text, 4, '0') FROM generate_series(1, $1::int) i`,
      [rooms, label.name, label.code]
    )
  }).pipe(Effect.provide(postgresLayer(url, 1)), Effect.orDie)

/** `rooms` extra rooms numbered from 5001 are added to the demo data. */
export const deployment = (
  serverUrl: string,
  options: { readonly size: number; readonly rooms: number; readonly env: Record<string, string> }
): Effect.Effect<Deployment, never, Scope.Scope> =>
  Effect.gen(function*() {
    const url = yield* freshPostgresUrl(serverUrl)
    const query = <A extends object>(text: string, ...params: ReadonlyArray<unknown>) =>
      Effect.runPromise(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return yield* sql.unsafe<A>(text, params)
      }).pipe(Effect.provide(postgresLayer(url, 1)), Effect.orDie))
    yield* migratedWithRooms(url, options.rooms, { name: "Cluster", code: "CL" })

    const members: Array<Member> = []
    for (let i = 0; i < options.size; i++) {
      members.push({ http: yield* Effect.promise(freePort), runner: yield* Effect.promise(freePort), process: undefined })
    }
    const logs: Array<string> = []
    const base = (i: number) => `http://127.0.0.1:${members[i]!.http}`

    const ready = async (i: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const child = members[i]!.process
        if (child === undefined || child.child.exitCode !== null) throw new Error(`member ${i} exited:\n${child?.output()}`)
        try {
          if ((await fetch(`${base(i)}/ready`)).status === 200) return
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`member ${i} not ready within ${timeoutMs} ms:\n${child.output()}`)
        await sleep(100)
      }
    }

    const start = async (i: number) => {
      const m = members[i]!
      if (m.process !== undefined) logs.push(m.process.output())
      m.process = startService({
        DATABASE_URL: url,
        LISTEN_ADDRESS: `127.0.0.1:${m.http}`,
        CLUSTER_RUNNER_ADDRESS: `127.0.0.1:${m.runner}`,
        SCALE: "true",
        LOG_LEVEL: "warn",
        ...options.env
      })
      await ready(i, 60_000)
    }

    const stop = async (i: number, signal: "SIGTERM" | "SIGKILL") => {
      const m = members[i]!
      const child = m.process
      if (child === undefined) return 0
      const t0 = Date.now()
      child.child.kill(signal)
      await child.exited
      logs.push(child.output())
      m.process = undefined
      return Date.now() - t0
    }

    const running = () => members.flatMap((m, i) => (m.process !== undefined ? [i] : []))

    const settled = async (timeoutMs = 30_000, leaving?: number) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const shares = await Promise.all(running().filter((i) => i !== leaving).map(async (i) => {
          try {
            return ((await (await fetch(`${base(i)}/ready`)).json()) as { rooms: { shards: number; of: number } }).rooms
          } catch {
            return { shards: 0, of: 1 }
          }
        }))
        const held = shares.reduce((n, s) => n + s.shards, 0)
        if (held === shares[0]?.of && shares.every((s) => s.shards > 0)) return
        if (Date.now() > deadline) throw new Error(`shards not settled within ${timeoutMs} ms: ${JSON.stringify(shares)}`)
        await sleep(200)
      }
    }

    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all(members.map((_, i) => stop(i, "SIGKILL")))).pipe(Effect.asVoid)
    )
    yield* Effect.promise(() => Promise.all(members.map((_, i) => start(i))))
    yield* Effect.promise(() => settled(60_000))
    return {
      url,
      members,
      start,
      stop,
      base,
      running,
      settled,
      output: () => [...logs, ...members.map((m) => m.process?.output() ?? "")].join("\n"),
      query
    }
  })

/** POST /v2/room_server through member `i`: the status and the gateway (if any). */
export const requestServer = async (d: Deployment, i: number, room: number | string) => {
  const response = await fetch(`${d.base(i)}/v2/room_server`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ room }),
    signal: AbortSignal.timeout(15_000)
  })
  const text = await response.text()
  const body = (text === "" ? { error: `empty body, ${[...response.headers].map(([k, v]) => `${k}: ${v}`).join("; ")}` } : JSON.parse(text)) as {
    janus?: string
    error?: string
  }
  return { status: response.status, janus: body.janus, error: body.error }
}
