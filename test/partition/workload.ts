// The load generator: users who ask for their room's gateway, join it,
// send keepalives and sticky requests while they stay, then leave (as a
// Janus `leaving` event); and visitors who only ask for rooms (new rooms
// and sticky hits). Every call goes through a runner picked at random — a
// paused or cut-off one too — and is recorded with its times and answer.
// A user's calls are sequential, so each keepalive was acknowledged before
// the next one was sent.
import { Agent, request } from "node:http"
import { answeredGateway } from "./checker.ts"
import type { Call, Operation } from "./history.ts"

export interface WorkloadOptions {
  readonly bases: ReadonlyArray<string>
  readonly rooms: ReadonlyArray<string>
  /** New users per second; each asks, joins, stays, leaves. */
  readonly arrivals: number
  /** Room requests per second from visitors who only ask (new rooms and sticky hits). */
  readonly visits: number
  /** How long a user stays, ms (each picks within the range). */
  readonly stay: readonly [number, number]
  /** A call not answered within this is recorded as a timeout. */
  readonly timeout: number
  /**
   * Every this many ms an operator sets the next gateway draining (after
   * setting the previous one serving again: never two at once), so rooms
   * placed again land elsewhere. 0: never.
   */
  readonly rotateDrain: number
  readonly gateways: ReadonlyArray<string>
}

/** A call the harness itself makes, recorded with the workload's. */
export type MakeCall = (
  op: Operation,
  room: string,
  method: string,
  path: string,
  body: unknown,
  extra?: Pick<Call, "user" | "gateway" | "session" | "keepalive" | "draining">,
  runner?: number
) => Promise<Call>

export interface Workload {
  readonly calls: Array<Call>
  readonly call: MakeCall
  /** Waits for `task` before the workload counts as stopped. */
  readonly track: (task: Promise<unknown>) => void
  /** Whether `stop` was called: tracked tasks end their loops. */
  readonly stopping: () => boolean
  /** Stops starting new work; resolves once every user has left and every call is answered. */
  readonly stop: () => Promise<ReadonlyArray<Call>>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A user's PUT /users/:id body as Galaxy sends it: joining, and each keepalive after (`extra.ka` its number). */
export const userBody = (room: string, gateway: string, session: number, user: string, keepalive: number) =>
  ({ room: Number(room), janus: gateway, session, handle: 1, rfid: `${user}-feed`, display: user, extra: { ka: keepalive } })

/** The gateway's `leaving` event for a user's feed (POST /event). */
export const leavingEvent = (room: string, gateway: string | undefined, user: string) =>
  ({ emitter: gateway, type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", room: Number(room), id: `${user}-feed` } } })

const pick = <A>(list: ReadonlyArray<A>): A => list[Math.floor(Math.random() * list.length)]!
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo)

// A connection per call: a kept-alive connection the server closes as a
// request goes out would be a failure of the client, not of the service.
const agent = new Agent({ keepAlive: false, maxSockets: Infinity })

interface Answer {
  readonly status: number | "timeout" | "connection"
  readonly contentType?: string | undefined
  readonly retryAfter?: string | undefined
  readonly body: string
}

const send = (base: string, method: string, path: string, body: unknown, timeout: number) =>
  new Promise<Answer>((resolve) => {
    const payload = JSON.stringify(body)
    let done = false
    const finish = (a: Answer) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(a)
    }
    const req = request(`${base}${path}`, {
      method,
      agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
    }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (d) => (text += d))
      res.on("end", () =>
        finish({
          status: res.statusCode ?? 0,
          contentType: res.headers["content-type"],
          retryAfter: res.headers["retry-after"] as string | undefined,
          body: text
        }))
      res.on("error", () => finish({ status: "connection", body: text }))
    })
    const timer = setTimeout(() => {
      finish({ status: "timeout", body: "" })
      req.destroy()
    }, timeout)
    req.on("error", (e) => finish({ status: "connection", body: String((e as NodeJS.ErrnoException).code ?? e) }))
    req.end(payload)
  })

/**
 * Open loop: users arrive and visitors ask at fixed rates whatever the
 * service does, so a paused or cut-off runner gathers waiting calls while
 * the others keep serving (a closed loop would soon have every worker
 * waiting on the faulty runner).
 */
export const startWorkload = (options: WorkloadOptions): Workload => {
  const calls: Array<Call> = []
  const running = new Set<Promise<void>>()
  let stopped = false
  let next = 0
  let users = 0

  const call: MakeCall = async (op, room, method, path, body, extra = {}, through) => {
    const runner = through ?? Math.floor(Math.random() * options.bases.length)
    const sent = Date.now()
    const answer = await send(options.bases[runner]!, method, path, body, options.timeout)
    const record: Call = { id: next++, op, runner, room, ...extra, sent, received: Date.now(), ...answer, body: answer.body.slice(0, 300) }
    calls.push(record)
    return record
  }

  const askFor = (room: string) => call("room_server", room, "POST", "/v2/room_server", { room: Number(room) })

  // A user's calls are sequential: each keepalive was answered before the next was sent.
  const user = async (user: string) => {
    const room = pick(options.rooms)
    let gateway: string | undefined
    for (let attempt = 0; gateway === undefined; attempt++) {
      if (attempt > 0 && (stopped || attempt >= 5)) return
      if (attempt > 0) await sleep(between(300, 800))
      gateway = answeredGateway(await askFor(room))
    }
    const session = 1 + Math.floor(Math.random() * 1e9)
    let keepalive = 0
    const body = () => userBody(room, gateway!, session, user, keepalive)
    const joined = await call("join", room, "PUT", `/users/${user}`, body(), { user, gateway, session, keepalive })
    if (joined.status === 200) {
      const until = Date.now() + between(...options.stay)
      while (!stopped && Date.now() < until) {
        await sleep(between(250, 600))
        if (Math.random() < 0.5) {
          keepalive++
          await call("keepalive", room, "PUT", `/users/${user}`, body(), { user, gateway, session, keepalive })
        } else {
          await askFor(room)
        }
      }
    }
    // a join that was not acknowledged may still have been stored: leave anyway
    const leaving = leavingEvent(room, gateway, user)
    for (let attempt = 0; attempt < 20; attempt++) {
      const left = await call("leave", room, "POST", "/event", leaving, { user, gateway, session })
      if (left.status === 200) break
      await sleep(500)
    }
  }

  const spawnEvery = (perSecond: number, task: () => Promise<void>) => {
    const loop = async () => {
      while (!stopped) {
        const p = task().catch((e) => console.error("workload task failed", e))
        running.add(p)
        void p.finally(() => running.delete(p))
        // exponential gaps: arrivals at random, at the given rate
        await sleep(-Math.log(1 - Math.random()) * 1000 / perSecond)
      }
    }
    return loop()
  }

  // The operator: one gateway draining at a time, in turn.
  const operator = async () => {
    // setting one serving again is retried until it holds; a new drain is given up once stopping
    const drain = async (gateway: string, draining: boolean) => {
      for (let attempt = 0; attempt < 60; attempt++) {
        if (draining && stopped) return false
        const c = await call("drain", "", "PATCH", `/admin/gateways/${gateway}`, { draining }, { gateway, draining })
        if (c.status === 200) return true
        await sleep(500)
      }
      return false
    }
    let current: string | undefined
    for (let turn = 0; !stopped; turn++) {
      if (current !== undefined && !(await drain(current, false))) return
      current = undefined
      if (stopped) return
      const next = options.gateways[turn % options.gateways.length]!
      if (await drain(next, true)) current = next
      for (let waited = 0; waited < options.rotateDrain && !stopped; waited += 100) await sleep(100)
    }
    if (current !== undefined) await drain(current, false)
  }

  const loops = Promise.all([
    ...(options.rotateDrain > 0 ? [operator()] : []),
    spawnEvery(options.arrivals, () => user(`pu${users++}`)),
    spawnEvery(options.visits, async () => void await askFor(pick(options.rooms)))
  ])
  const track = (task: Promise<unknown>) => {
    const p = task.then(() => undefined, (e) => console.error("workload task failed", e))
    running.add(p)
    void p.finally(() => running.delete(p))
  }
  return {
    calls,
    call,
    track,
    stopping: () => stopped,
    stop: async () => {
      stopped = true
      await loops
      while (running.size > 0) await Promise.all([...running])
      return calls
    }
  }
}

/** Asks every room through every runner until each answers 200 (or `timeoutMs` passes): how the deployment recovered. */
export const probeRooms = async (
  bases: ReadonlyArray<string>,
  rooms: ReadonlyArray<string>,
  timeoutMs: number,
  record: Array<Call>
): Promise<{ readonly unanswered: ReadonlyArray<string>; readonly ms: number }> => {
  const t0 = Date.now()
  let pending = rooms.flatMap((room) => bases.map((_, runner) => ({ room, runner })))
  let id = 1_000_000_000
  while (pending.length > 0 && Date.now() - t0 < timeoutMs) {
    const answers = await Promise.all(pending.map(async (p) => {
      const sent = Date.now()
      const a = await send(bases[p.runner]!, "POST", "/v2/room_server", { room: Number(p.room) }, 15_000)
      const c: Call = { id: id++, op: "room_server", runner: p.runner, room: p.room, sent, received: Date.now(), ...a, body: a.body.slice(0, 300) }
      record.push(c)
      return { p, ok: a.status === 200 }
    }))
    pending = answers.filter((a) => !a.ok).map((a) => a.p)
    if (pending.length > 0) await sleep(500)
  }
  return { unanswered: pending.map((p) => `room ${p.room} through runner ${p.runner}`), ms: Date.now() - t0 }
}
