// Rooms at scale (`npm run bench -- --only "rooms at scale"`): 100,000 rooms
// exist; a new room's cost is measured with 2,000 and with 12,000 existing
// assignments (it must not grow with them), and the service's memory with
// 10,000 rooms requested and 2,000 in use, once their actors have left
// memory (ROOM_RESIDENCY). Every room is created and requested through the
// HTTP API, as a deployment's clients would.
import autocannon from "autocannon"
import { type CpuMeter, perRequest } from "./cpu.ts"
import { pool, range, send } from "./prepare.ts"
import { rssMiB, type Running } from "./processes.ts"
import { errorsOf, gatewayOf, userBody } from "./scenarios.ts"

export interface ScaleSizes {
  readonly rooms: number
  /** First requests measured at each size, and how many at once. */
  readonly measured: number
  readonly connections: number
}

export const fullScale: ScaleSizes = { rooms: 100_000, measured: 500, connections: 20 }
export const quickScale: ScaleSizes = { rooms: 10_000, measured: 100, connections: 20 }

/** Measured rounds at each size: the comparison takes each size's median, which one noisy round does not move. */
const rounds = 3

const scaleRoom = (i: number) => 200_000_000 + i

export interface PlacementFigures {
  readonly existing: number
  readonly requests: number
  readonly requestsPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
  readonly cpuUs: number
  readonly postgresCpuUs: number
}

export interface ScaleReport {
  readonly sizes: ScaleSizes
  readonly createdPerSecond: number
  readonly placements: ReadonlyArray<PlacementFigures>
  /** The median CPU (service + Postgres) of a new room at `many` existing assignments over that at `few`. */
  readonly comparison: { readonly few: number; readonly many: number; readonly ratio: number }
  /** Service RSS (MiB) with `requested` rooms requested and `inUse` in use: right after, and once idle actors left memory. */
  readonly memory: {
    readonly requested: number
    readonly inUse: number
    readonly afterMiB: number
    /** Room actors in memory right after the requests. */
    readonly residentAfter: number
    readonly settledMiB: number
    readonly settleSeconds: number
  }
}

/** First requests for `rooms`, `connections` at a time, as the web client sends them. */
export const firstRequests = (base: string, rooms: ReadonlyArray<number>, connections: number) => {
  let next = 0
  return autocannon({
    url: base,
    connections,
    amount: rooms.length,
    requests: [{
      method: "POST",
      path: "/v2/room_server",
      headers: { "content-type": "application/json" },
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ room: rooms[next++]! }) })
    }]
  } as autocannon.Options)
}

const residentRooms = async (base: string) => {
  const text = await (await fetch(`${base}/metrics`)).text()
  return Number(/^rooms_resident (\S+)$/m.exec(text)?.[1] ?? Number.NaN)
}

export const roomsAtScale = async (service: Running, meter: CpuMeter, sizes: ScaleSizes, log: (line: string) => void): Promise<ScaleReport> => {
  const { base } = service
  const created = Date.now()
  await pool(range(sizes.rooms, scaleRoom), 32, (room) =>
    send(base, "POST", "/admin/rooms", JSON.stringify({ room, name: `Scale room ${room}`, default_gateway: gatewayOf(room) })))
  const createdPerSecond = Math.round(sizes.rooms / ((Date.now() - created) / 1000))
  log(`created ${sizes.rooms} rooms (${createdPerSecond}/s)`)

  let requested = 0
  /** Requests the next `n` rooms, unmeasured (16 at once). */
  const requestMore = async (n: number) => {
    await pool(range(n, (i) => scaleRoom(requested + i)), 16, (room) => send(base, "POST", "/v2/room_server", JSON.stringify({ room })))
    requested += n
  }
  /** Requests the next `sizes.measured` rooms, `sizes.connections` at once, measured. */
  const measureOnce = async (): Promise<PlacementFigures> => {
    const existing = requested
    const rooms = range(sizes.measured, (i) => scaleRoom(requested + i))
    const before = meter.read()
    const result = await firstRequests(base, rooms, sizes.connections)
    const cpu = perRequest(before, meter.read(), result.requests.total)
    requested += sizes.measured
    const figures = {
      existing,
      requests: result.requests.total,
      requestsPerSecond: Math.round(result.requests.total / Math.max(result.duration, 0.001)),
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: errorsOf(result),
      cpuUs: cpu.process,
      postgresCpuUs: cpu.postgres
    }
    log(`new rooms at ${existing} assignments: ${JSON.stringify(figures)}`)
    return figures
  }
  const measure = async () => {
    const all: Array<PlacementFigures> = []
    for (let i = 0; i < rounds; i++) all.push(await measureOnce())
    return all
  }

  const inUse = sizes.rooms / 50 // 2,000 of 100,000
  const withRequested = sizes.rooms / 10 // 10,000 of 100,000
  await requestMore(inUse)
  // one user in each of the first rooms: these are in use
  await pool(range(inUse, scaleRoom), 16, (room) => send(base, "PUT", `/users/scale-${room}`, userBody(room, 0)))
  const atFew = await measure()
  await requestMore(withRequested - requested)
  const afterMiB = rssMiB(service.child.pid!).now
  const residentAfter = await residentRooms(base)
  // until the actors of rooms nobody talks to have left memory (ROOM_RESIDENCY, 30 s, checked every 30 s)
  const settled = Date.now()
  while ((await residentRooms(base)) > 0 && Date.now() - settled < 120_000) await new Promise((r) => setTimeout(r, 1_000))
  const settleSeconds = Math.round((Date.now() - settled) / 1000)
  const settledMiB = rssMiB(service.child.pid!).now
  log(`memory with ${requested} requested, ${inUse} in use: ${afterMiB} MiB, ${settledMiB} MiB after ${settleSeconds} s`)
  await requestMore(sizes.rooms * 0.12 - requested)
  const atMany = await measure()
  return {
    sizes,
    createdPerSecond,
    placements: [...atFew, ...atMany],
    comparison: { few: atFew[0]!.existing, many: atMany[0]!.existing, ratio: median(atMany) / median(atFew) },
    memory: { requested: withRequested, inUse, afterMiB, residentAfter, settledMiB, settleSeconds }
  }
}

const median = (figures: ReadonlyArray<PlacementFigures>) => {
  const costs = figures.map((f) => f.cpuUs + f.postgresCpuUs).sort((a, b) => a - b)
  return costs[Math.floor(costs.length / 2)]!
}

export const scaleLines = (report: ScaleReport, baseline: { readonly cpuUs: number }): ReadonlyArray<string> => {
  const { few, many, ratio } = report.comparison
  return [
    `Rooms at scale: ${report.sizes.rooms} rooms (created at ${report.createdPerSecond}/s through POST /admin/rooms); ${rounds} rounds of ${report.sizes.measured} first requests, ${report.sizes.connections} at once, at each size.`,
    "",
    "| existing assignments | new rooms | req/s | p50 ms | p99 ms | errors | CPU µs/room | Postgres µs/room |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...report.placements.map((p) => `| ${p.existing} | ${p.requests} | ${p.requestsPerSecond} | ${p.p50} | ${p.p99} | ${p.errors} | ${p.cpuUs} | ${p.postgresCpuUs} |`),
    "",
    `A new room from ${many} existing assignments on costs ${ratio.toFixed(2)}× what it costs from ${few} on (the median of ${rounds} rounds each, service + Postgres CPU); the baseline's CPU per request in the same run: ${baseline.cpuUs} µs.`,
    `Memory with ${report.memory.requested} rooms requested and ${report.memory.inUse} in use: ${report.memory.afterMiB} MiB right after (${report.memory.residentAfter} room actors in memory), ${report.memory.settledMiB} MiB once they left (${report.memory.settleSeconds} s).`
  ]
}
