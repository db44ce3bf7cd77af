// A class starts: `users` users of `rooms` rooms join within `joinSeconds`
// (each asks for its room's server, then sends its first keepalive naming
// the gateway it was given), then every user sends a keepalive every 10 s
// until `seconds` have passed. Reports latency and errors per route.
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
}

export const burstRoom = (i: number) => firstRoom + 4_000_000 + i

const keepaliveEvery = 10_000

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** `run` numbers the burst's users apart from those of an earlier run (each run's users are new). */
export const classStart = async (base: string, burst: Burst, run = 0): Promise<ReadonlyArray<RouteFigures>> => {
  const latencies = new Map<string, Array<number>>()
  const errors = new Map<string, number>()
  const shed = new Map<string, number>()
  const send = async (route: string, method: string, path: string, body: unknown): Promise<any> => {
    const started = performance.now()
    try {
      const response = await fetch(base + path, { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } })
      const answer = await response.json()
      if (response.status === 503 && typeof answer?.error === "string" && response.headers.get("retry-after") !== null) {
        shed.set(route, (shed.get(route) ?? 0) + 1)
      }
      if (response.status !== 200) throw new Error(`${response.status}`)
      return answer
    } catch {
      errors.set(route, (errors.get(route) ?? 0) + 1)
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
      await send("PUT /users/:id", "PUT", `/users/${id}`, body)
    }
  }
  await Promise.all(Array.from({ length: burst.users }, (_, u) => user(u)))
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
      shed: shed.get(route) ?? 0
    }
  })
}
