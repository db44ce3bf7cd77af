// The database going away under a deployment of three processes (each a
// cluster runner, real-time broadcasts through the Postgres adapter, as the
// README's several-process setup runs), with traffic: the adapter's LISTEN
// connection terminated, then Postgres stopped for 10 s and started again.
// No process may exit; while it is away clients get JSON 503s with
// Retry-After; once it is back every process serves again within 2 s, and
// every keepalive answered 200 is stored. A private Postgres server is
// stopped, never the machine's own.
import { Effect, Exit, Scope } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { type Deployment, deployment, requestServer } from "../support/deployment.ts"
import { postgresBinDir, type PrivatePostgres, privatePostgres } from "../support/postgresServer.ts"

const skipReason = postgresBinDir === undefined ? "skipped: no Postgres installed to run a private server" : undefined
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const rooms = Array.from({ length: 20 }, (_, i) => 5001 + i)

interface Answer {
  readonly at: number
  readonly member: number
  readonly what: "room" | "keepalive"
  readonly status: number | "no connection"
  readonly json: boolean
  readonly retryAfter: string | null
  readonly user?: string | undefined
}

/** Room requests and keepalives through every member until stopped. */
const traffic = (d: Deployment) => {
  const answers: Array<Answer> = []
  let stopped = false
  let n = 0
  const once = async (member: number) => {
    const room = rooms[n++ % rooms.length]!
    const keepalive = n % 2 === 0
    const user = `fault-${n}`
    try {
      const response = keepalive
        ? await fetch(`${d.base(member)}/users/${user}`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ room, janus: "gxy1", session: n, rfid: `${user}-feed` }),
          signal: AbortSignal.timeout(15_000)
        })
        : await fetch(`${d.base(member)}/v2/room_server`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ room }),
          signal: AbortSignal.timeout(15_000)
        })
      const text = await response.text()
      let json = false
      try {
        json = typeof JSON.parse(text) === "object"
      } catch {
        // not JSON
      }
      answers.push({
        at: Date.now(), member, what: keepalive ? "keepalive" : "room", status: response.status, json,
        retryAfter: response.headers.get("retry-after"), user: keepalive ? user : undefined
      })
    } catch {
      answers.push({ at: Date.now(), member, what: keepalive ? "keepalive" : "room", status: "no connection", json: false, retryAfter: null })
      await sleep(100)
    }
  }
  const worker = async (member: number) => {
    while (!stopped) await once(member)
  }
  const done = Promise.all([0, 1, 2, 0, 1, 2].map(worker))
  return { answers, stop: async () => (stopped = true, await done, answers) }
}

describe.skipIf(skipReason !== undefined)(`the database going away under three processes${skipReason ? ` — ${skipReason}` : ""}`, () => {
  let d: Deployment
  let pg: PrivatePostgres
  const scope = Effect.runSync(Scope.make())

  beforeAll(async () => {
    pg = await Effect.runPromise(Scope.provide(scope)(privatePostgres))
    d = await Effect.runPromise(Scope.provide(scope)(deployment(pg.url, {
      size: 3,
      rooms: rooms.length,
      env: { REALTIME_ADAPTER: "postgres", DRAIN_GRACE: "1m", ASSIGNMENT_TTL: "10m", DEAD_SESSION_PERIOD: "10m" }
    })))
  }, 180_000)
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)), 60_000)

  const alive = () => d.members.map((m, i) => [i, m.process?.child.exitCode ?? null, m.process?.child.signalCode ?? null] as const)
    .filter(([, code, signal]) => code !== null || signal !== null)

  it("the real-time adapter's LISTEN connection terminated: no process exits, broadcasts resume", async () => {
    const killed = await d.query<{ pid: number }>(
      `SELECT pg_terminate_backend(pid) AS ok, pid FROM pg_stat_activity
       WHERE application_name = 'room-orchestrator realtime' AND query ILIKE 'LISTEN%'`
    )
    assert.isAtLeast(killed.length, 3, "each process listens")
    await sleep(3_000)
    assert.deepStrictEqual(alive(), [], `every process runs on:\n${d.output().slice(-3000)}`)
    for (const i of [0, 1, 2]) assert.strictEqual((await requestServer(d, i, rooms[0]!)).status, 200)
    // the adapter listens again
    for (let i = 0; ; i++) {
      const listening = await d.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'room-orchestrator realtime' AND query ILIKE 'LISTEN%'`)
      if (listening.length >= 3) break
      if (i > 100) assert.fail(`the adapter did not listen again: ${listening.length} of 3`)
      await sleep(100)
    }
  }, 60_000)

  it("Postgres stopped 10 s and started again: no process exits, JSON 503s meanwhile, serving again within 2 s, nothing answered lost", async () => {
    for (const room of rooms) assert.strictEqual((await requestServer(d, 0, room)).status, 200)
    const load = traffic(d)
    await sleep(2_000)
    await Effect.runPromise(pg.stop)
    const stoppedAt = Date.now()
    await sleep(10_000)
    // meanwhile: alive, /health answers, /ready names the database
    for (const i of [0, 1, 2]) {
      assert.strictEqual((await fetch(`${d.base(i)}/health`)).status, 200)
      const ready = await fetch(`${d.base(i)}/ready`)
      assert.strictEqual(ready.status, 503)
      assert.match(((await ready.json()) as { error: string }).error, /database/)
    }
    await Effect.runPromise(pg.start)
    const back = Date.now()
    // each process serves a room request again
    const servingAfter = await Promise.all([0, 1, 2].map(async (i) => {
      for (;;) {
        const r = await requestServer(d, i, rooms[i]!).catch(() => ({ status: 0 }))
        if (r.status === 200) return Date.now() - back
        if (Date.now() - back > 60_000) return Number.POSITIVE_INFINITY
        await sleep(50)
      }
    }))
    await sleep(2_000)
    const answers = await load.stop()
    const summary = new Map<string, number>()
    for (const a of answers) {
      const phase = a.at < stoppedAt ? "before" : a.at < back ? "during" : "after"
      const key = `${phase} ${a.what} ${a.status}${a.json ? "" : " (not JSON)"}`
      summary.set(key, (summary.get(key) ?? 0) + 1)
    }
    console.log(`serving again after ${servingAfter.join(", ")} ms; ${answers.length} requests: ${JSON.stringify(Object.fromEntries(summary))}`)

    assert.deepStrictEqual(alive(), [], `every process runs on:\n${d.output().slice(-3000)}`)
    // the time to serve includes Postgres's own start-up checks; a loaded machine gets a second of slack
    for (const ms of servingAfter) assert.isAtMost(ms, 3_000, `serving again after ${servingAfter.join(", ")} ms`)
    const during = answers.filter((a) => a.at > stoppedAt + 1_000 && a.at < back)
    assert.isAbove(during.length, 0)
    const bad = answers.filter((a) => a.status !== 200 && !(a.status === 503 && a.json && a.retryAfter !== null))
    assert.deepStrictEqual(bad.slice(0, 5), [], `${bad.length} answers were neither 200 nor a JSON 503 with Retry-After`)
    const stored = new Set((await d.query<{ account_id: string }>(`SELECT account_id FROM users WHERE account_id LIKE 'fault-%'`)).map((r) => r.account_id))
    const lost = answers.filter((a) => a.what === "keepalive" && a.status === 200 && !stored.has(a.user!))
    assert.deepStrictEqual(lost.map((a) => a.user), [], "every keepalive answered 200 is stored")
    for (const i of [0, 1, 2]) assert.strictEqual((await fetch(`${d.base(i)}/ready`)).status, 200)
  }, 180_000)
})
