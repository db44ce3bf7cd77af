// A class starts: `users` users of `rooms` rooms join within `joinSeconds`
// (each asks for its room's server, then sends its first keepalive naming
// the gateway it was given), then every user sends a keepalive every 10 s
// until `seconds` have passed. Reports latency and errors per route.
//
// The users are driven over node:http with kept-alive connections, not
// fetch: on this machine fetch costs its caller ~340–390 µs of CPU per
// request against ~86 µs for node:http (20,000 requests to a bare server),
// and the burst's client shares the two cores with the service and Postgres.
import { Agent, request } from "node:http"
import { firstRoom } from "./scenarios.ts"

export interface Burst {
  readonly rooms: number
  readonly users: number
  readonly joinSeconds: number
  readonly seconds: number
}

export interface RouteFigures {
  readonly route: string
  readonly requests: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  /** Answers that were not 200 (including the JSON 503s counted in `shed`). */
  readonly errors: number
  /** Refusals that were a JSON 503 with Retry-After (what an overloaded service answers). */
  readonly shed: number
  /** The other errors by what they were: a status, "not JSON" or "no answer" (the connection failed), e.g. `408: 12, no answer: 3`. */
  readonly others: string
}

export const burstRoom = (i: number) => firstRoom + 4_000_000 + i

const keepaliveEvery = 10_000

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/**
 * `run` numbers the burst's users apart from those of an earlier run (each
 * run's users are new); `accepted`, when given, gets each user's id and when
 * its last accepted keepalive was sent (ms since the epoch).
 */
export const classStart = async (base: string, burst: Burst, run = 0, accepted?: Map<string, number>): Promise<ReadonlyArray<RouteFigures>> => {
  const latencies = new Map<string, Array<number>>()
  const errors = new Map<string, number>()
  const shed = new Map<string, number>()
  const others = new Map<string, Map<string, number>>()
  const count = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1)
  // At most `maxConnections` open at once, below this process's open-files
  // limit (a request beyond waits here for one, its wait counted in its
  // latency); no request waits for its answer longer than `answerWithin`.
  const agent = new Agent({ keepAlive: true, maxSockets: maxConnections })
  const send = async (route: string, method: string, path: string, body: unknown): Promise<any> => {
    const started = performance.now()
    let kind = "no answer"
    try {
      const response = await exchange(agent, base, method, path, JSON.stringify(body))
      kind = "not JSON"
      const answer = JSON.parse(response.body)
      kind = String(response.status)
      if (response.status === 503 && typeof answer?.error === "string" && response.retryAfter !== undefined) {
        count(shed, route)
        kind = "shed"
      }
      if (response.status !== 200) throw new Error(kind)
      return answer
    } catch (error) {
      // a connection that failed: how (ECONNRESET, …); aborted: no answer in time
      const code = (error as { code?: unknown }).code
      if (kind === "no answer" && code === "ABORT_ERR") kind = `no answer within ${answerWithin / 1000} s`
      else if (kind === "no answer" && typeof code === "string") kind = `no answer (${code})`
      count(errors, route)
      if (kind !== "shed") count(others.get(route) ?? others.set(route, new Map()).get(route)!, kind)
      return undefined
    } finally {
      const list = latencies.get(route) ?? []
      list.push(performance.now() - started)
      latencies.set(route, list)
    }
  }
  const started = Date.now()
  const end = started + burst.seconds * 1000
  const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())))
  const user = async (u: number) => {
    const room = burstRoom(u % burst.rooms)
    await sleepUntil(started + Math.random() * burst.joinSeconds * 1000)
    const answer = await send("POST /v2/room_server", "POST", "/v2/room_server", { room, geo: { country_code: "IL" } })
    const janus = answer?.janus ?? "gxy1"
    const id = `burst-${run}-${u}`
    const body = { room, janus, display: `Student ${u}`, session: 50_000_000 + u, handle: 60_000_000 + u, rfid: id, camera: true, country: "Israel" }
    for (let at = Date.now(); at < end; at += keepaliveEvery) {
      await sleepUntil(at)
      const sentAt = Date.now()
      if (await send("PUT /users/:id", "PUT", `/users/${id}`, body) !== undefined) accepted?.set(id, sentAt)
    }
  }
  await Promise.all(Array.from({ length: burst.users }, (_, u) => user(u)))
  agent.destroy()
  return [...latencies].map(([route, list]) => {
    const sorted = list.sort((a, b) => a - b)
    const round = (ms: number) => Math.round(ms * 10) / 10
    return {
      route,
      requests: sorted.length,
      p50: round(percentile(sorted, 50)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.at(-1) ?? 0),
      errors: errors.get(route) ?? 0,
      shed: shed.get(route) ?? 0,
      others: [...(others.get(route) ?? [])].map(([kind, n]) => `${kind}: ${n}`).join(", ")
    }
  })
}

const maxConnections = 15_000
const answerWithin = 60_000

/** One request with a JSON body: its status, Retry-After and body text; rejects when the connection fails. */
const exchange = (agent: Agent, base: string, method: string, path: string, body: string) =>
  new Promise<{ readonly status: number; readonly retryAfter: string | undefined; readonly body: string }>((resolve, reject) => {
    const sent = request(base + path, { agent, method, signal: AbortSignal.timeout(answerWithin), headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers["retry-after"], body: Buffer.concat(chunks).toString("utf8") }))
      response.on("error", reject)
    })
    sent.on("error", reject)
    sent.end(body)
  })

/**
 * Of the users in `accepted`, how many the service does not show stored: no
 * live session, or one whose last keepalive is older than the last one it
 * accepted (read from GET /admin/sessions, page by page).
 */
export const unstoredKeepalives = async (base: string, accepted: ReadonlyMap<string, number>): Promise<number> => {
  const stored = new Map<string, number>()
  let cursor: string | null = null
  do {
    const response = await fetch(`${base}/admin/sessions?limit=1000${cursor === null ? "" : `&cursor=${cursor}`}`)
    if (!response.ok) throw new Error(`GET /admin/sessions answered ${response.status}: ${await response.text()}`)
    const page = (await response.json()) as { sessions: ReadonlyArray<{ user: string; keepalive: number }>; next_cursor: string | null }
    for (const session of page.sessions) stored.set(session.user, session.keepalive)
    cursor = page.next_cursor
  } while (cursor !== null)
  let unstored = 0
  // the database's clock is this machine's; its milliseconds are rounded
  for (const [user, sentAt] of accepted) if ((stored.get(user) ?? -Infinity) < sentAt - 1) unstored++
  return unstored
}
