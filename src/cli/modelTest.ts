// `npm run model-test -- --url http://host:port`: the lifecycle paths the
// model-based suite runs (machines/paths.ts, derived from the room machine),
// run black-box against a running deployment over HTTP (and MQTT for a
// gateway going down): an operator's check of a staging deployment. Each
// path gets a room of its own; after each step the room's machine, as the
// deployment reports it, must be where the machine says. Paths that need
// what only the suite can do (rows edited under a room, a room missing a
// message) are listed as skipped, with why.
import { parseArgs } from "node:util"
import mqtt from "mqtt"
import { gatewayNames, type Move, movesOf } from "../../machines/pathRun.ts"
import { kindOf, lifecyclePaths, type LifecyclePath, usersGateway } from "../../machines/paths.ts"
import { configuredMachine } from "../../machines/step.ts"
import { parseGoDuration } from "../duration.ts"

const usage = `usage: npm run model-test -- --url http://127.0.0.1:8081 [--drain-grace 1s] [--assignment-ttl 2s]
  [--token <bearer token> | --service-password <password>] [--mqtt mqtt://host:port --failover-wait 1s]
  [--disruptive] [--only <text>]
The deployment must run with SCALE=true and the same DRAIN_GRACE and ASSIGNMENT_TTL.
--disruptive also runs the paths that take every gateway away for a moment (no gateway available, a gateway down).`

const fail = (message: string): never => {
  console.error(message)
  process.exit(2)
}

const { values: args } = (() => {
  try {
    return parseArgs({
      options: {
        url: { type: "string" },
        "drain-grace": { type: "string", default: "1s" },
        "assignment-ttl": { type: "string", default: "2s" },
        token: { type: "string" },
        "service-password": { type: "string" },
        mqtt: { type: "string" },
        "failover-wait": { type: "string", default: "1s" },
        disruptive: { type: "boolean", default: false },
        only: { type: "string" }
      }
    })
  } catch (e) {
    return fail(`${(e as Error).message}\n${usage}`)
  }
})()

const duration = (name: string, text: string) => parseGoDuration(text) ?? fail(`Invalid --${name} ${JSON.stringify(text)}: expected a duration like 2s\n${usage}`)
if (args.url === undefined || !URL.canParse(args.url)) fail(`--url is required: the deployment's base URL\n${usage}`)
const base = args.url!.replace(/\/$/, "")
const delays = { drainGrace: duration("drain-grace", args["drain-grace"]!), assignmentTtl: duration("assignment-ttl", args["assignment-ttl"]!) }
const failoverWait = duration("failover-wait", args["failover-wait"]!)
const authorization = args.token !== undefined
  ? `Bearer ${args.token}`
  : args["service-password"] !== undefined
  ? `Basic ${Buffer.from(`service:${args["service-password"]}`).toString("base64")}`
  : undefined

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(base + path, {
    method,
    headers: { ...(authorization ? { authorization } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) as any }
}

interface Machine {
  readonly state: string
  readonly gateway: string | null
  readonly sessions: number
  readonly history: ReadonlyArray<{ readonly from: string; readonly event: string; readonly to: string; readonly sessions: number | null }>
}

const machineOf = async (room: string): Promise<Machine> => {
  const r = await call("GET", `/admin/rooms/${room}/machine`)
  if (r.status !== 200) throw new Error(`GET /admin/rooms/${room}/machine answered ${r.status}: ${JSON.stringify(r.body)}`)
  return r.body
}

/** Why a path cannot run black-box, if it cannot. */
const unsupported = (path: LifecyclePath): string | undefined => {
  for (const s of path.steps) {
    const kind = kindOf(s.event)
    if (kind === "SESSION.JOINED(again)") return "a join repeated to the room (only the suite can send one)"
    if (kind === "SESSION.UPDATED(new)") return "a keepalive of a session the room missed (only the suite can make one)"
    if (s.event.type === "SESSIONS.SYNCED") return "a recount after rows changed under the room (suite only)"
    if (s.event.type === "ROOM.LOADED" && kind !== "ROOM.LOADED(as stored)") return "a reload of rows edited by hand (suite only)"
    if (kind === "GATEWAY.DOWN(another)") return "another gateway going down would move other rooms (suite only)"
    if (s.event.type === "ROOM.LOADED" && s.state.value === "assigning") return "a room stored mid-assignment (suite only)"
    if ((kind === "GATEWAY.DOWN(its own)" || s.event.type === "BALANCER.FAILED") && !args.disruptive) return "takes gateways away: needs --disruptive"
    if (kind === "GATEWAY.DOWN(its own)" && args.mqtt === undefined) return "a gateway going down: needs --mqtt"
    if (kind === "after settleTime") return "a young reservation settles 5 minutes after its placement (suite only)"
  }
  return undefined
}

const runId = Date.now().toString(36)
let broker: mqtt.MqttClient | undefined

const runPath = async (path: LifecyclePath, index: number) => {
  const room = `mt-${runId}-${index}`
  const created = await call("POST", "/admin/rooms", { room, name: `model test ${index}` })
  if (created.status !== 201) throw new Error(`POST /admin/rooms answered ${created.status}: ${JSON.stringify(created.body)}`)
  // the room is resident (loaded, as nothing) before the path starts
  await machineOf(room)
  const gateways = gatewayNames()
  const feeds = new Map<string, { user: string; session: number }>()
  let logged = 0
  let lastAt = 0
  try {
    for (const move of movesOf(configuredMachine(delays), path, room)) {
      const event = move.event
      // real time follows the model's: wait as long as it waits between events
      const wait = event.at - lastAt
      if (kindOf(event) === "SERVER.REQUESTED(later)" || event.type.startsWith("xstate.after")) await sleep(wait + 100)
      lastAt = move.at
      await act(room, move, gateways.real, feeds)
      const model = move.state
      let found = await machineOf(room)
      for (let tries = 0; found.state !== model.value && tries < 50; tries++) {
        await sleep(100)
        found = await machineOf(room)
      }
      const problems: Array<string> = []
      if (found.state !== model.value) problems.push(`state ${found.state}, expected ${model.value}`)
      if (found.sessions !== model.context.sessions.length) problems.push(`${found.sessions} sessions, expected ${model.context.sessions.length}`)
      if ((found.gateway === null) !== (model.context.gateway === null)) problems.push(`gateway ${found.gateway}, expected ${model.context.gateway === null ? "none" : "one"}`)
      if (model.context.gateway !== null && found.gateway !== null) {
        gateways.learn(move, found.gateway)
        if (found.gateway !== gateways.real(model.context.gateway)) problems.push(`moved to ${found.gateway}`)
      }
      const appended = found.history.slice(logged).map((h) => `${h.from} -${h.event}-> ${h.to} (${h.sessions})`)
      const wanted = move.history.map((h) => `${h.from} -${h.event}-> ${h.to} (${h.sessions})`)
      if (JSON.stringify(appended) !== JSON.stringify(wanted)) problems.push(`history ${JSON.stringify(appended)}, expected ${JSON.stringify(wanted)}`)
      logged = found.history.length
      if (problems.length > 0) throw new Error(`after ${move.label}: ${problems.join("; ")}`)
    }
  } finally {
    for (const { user, session } of feeds.values()) {
      await call("POST", "/event", { type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", id: `${user}-${session}` } } })
    }
    await call("DELETE", `/admin/rooms/${room}`)
  }
}

const act = async (
  room: string,
  { event, answer }: Move,
  real: (g: string) => string,
  feeds: Map<string, { user: string; session: number }>
) => {
  const expectOk = (what: string, r: { status: number; body: unknown }, ok: ReadonlyArray<number> = [200]) => {
    if (!ok.includes(r.status)) throw new Error(`${what} answered ${r.status}: ${JSON.stringify(r.body)}`)
  }
  const withoutGateways = async <A>(action: () => Promise<A>) => {
    const gateways = (await call("GET", "/admin/gateways")).body as ReadonlyArray<{ name: string; enabled: boolean }>
    const enabled = gateways.filter((g) => g.enabled).map((g) => g.name)
    for (const g of enabled) await call("PATCH", `/admin/gateways/${g}`, { enabled: false })
    try {
      return await action()
    } finally {
      for (const g of enabled) await call("PATCH", `/admin/gateways/${g}`, { enabled: true })
    }
  }
  switch (event.type) {
    case "SERVER.REQUESTED": {
      const request = () => call("POST", "/v2/room_server", { room, ...(event.country ? { geo: { country_code: event.country } } : {}) })
      if (answer === "BALANCER.FAILED") return expectOk("POST /v2/room_server", await withoutGateways(request), [503])
      return expectOk("POST /v2/room_server", await request())
    }
    case "SESSION.JOINED":
    case "SESSION.UPDATED": {
      const known = feeds.get(event.session) ?? { user: `${room}-${event.session}`, session: feeds.size + 1 }
      feeds.set(event.session, known)
      return expectOk("PUT /users", await call("PUT", `/users/${known.user}`, {
        room, janus: real(event.gateway ?? usersGateway), session: known.session, rfid: `${known.user}-${known.session}`, display: known.user
      }))
    }
    case "SESSION.LEFT": {
      const known = feeds.get(event.session)
      feeds.delete(event.session)
      const id = known === undefined ? `${room}-nobody` : `${known.user}-${known.session}`
      return expectOk("POST /event", await call("POST", "/event", { type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", id } } }))
    }
    case "GATEWAY.DOWN": {
      const gateway = real(event.gateway)
      const down = async () => {
        await broker!.publishAsync(`janus/${gateway}/status`, JSON.stringify({ online: false }), { qos: 1, retain: true })
        await sleep(failoverWait + 1_000)
      }
      try {
        if (answer === "BALANCER.FAILED") await withoutGateways(down)
        else await down()
      } finally {
        await broker!.publishAsync(`janus/${gateway}/status`, JSON.stringify({ online: true }), { qos: 1, retain: true })
      }
      return
    }
    case "ROOM.LOADED":
      return expectOk("POST /admin/rooms/:room/reload", await call("POST", `/admin/rooms/${room}/reload`))
    // an operator's release or move: refused (404, 409) where the machine takes no step
    case "RELEASE.REQUESTED":
      return expectOk("POST /admin/assignments/:room/release", await call("POST", `/admin/assignments/${room}/release`, {}), [200, 404, 409])
    case "REASSIGN.REQUESTED": {
      let target: string | undefined
      if (event.gateway !== undefined) {
        const current = (await machineOf(room)).gateway
        const gateways = (await call("GET", "/admin/gateway-loads")).body as ReadonlyArray<{ name: string; available: boolean; enabled: boolean; draining: boolean; online: boolean | null }>
        // the model's gateway as the deployment knows it, or one it can move the room to
        target = real(event.gateway) !== event.gateway
          ? real(event.gateway)
          : gateways.find((g) => g.name !== current && g.available && g.enabled && !g.draining && g.online !== false)?.name
      }
      const r = await call("POST", `/admin/assignments/${room}/reassign`, target === undefined ? {} : { gateway: target })
      return expectOk("POST /admin/assignments/:room/reassign", r, [200, 404, 409])
    }
    default:
      // a timer: the deployment fires it by itself; the wait was made above
      return
  }
}

const main = async () => {
  const { paths, coverage } = lifecyclePaths(delays)
  const chosen = paths.filter((p) => args.only === undefined || p.description.includes(args.only))
  const ready = await call("GET", "/ready").catch((e: Error) => fail(`${base} does not answer: ${e.message}`))
  if (ready.status !== 200) fail(`${base}/ready answered ${ready.status}: ${JSON.stringify(ready.body)}`)
  if (args.mqtt !== undefined) broker = await mqtt.connectAsync(args.mqtt, { protocolVersion: 4, reconnectPeriod: 0 })
  console.log(`model test of ${base}: ${chosen.length} of ${paths.length} paths (the machine's ${coverage.total} transitions all covered by the suite's paths)`)
  let passed = 0
  let failed = 0
  let skipped = 0
  for (const [index, path] of chosen.entries()) {
    const why = unsupported(path)
    if (why !== undefined) {
      skipped++
      console.log(`- skipped  ${path.description}: ${why}`)
      continue
    }
    try {
      await runPath(path, index)
      passed++
      console.log(`✓ passed   ${path.description}`)
    } catch (e) {
      failed++
      console.log(`✗ failed   ${path.description}: ${(e as Error).message}`)
    }
  }
  await broker?.endAsync()
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
  process.exit(failed === 0 && passed > 0 ? 0 : 1)
}

void main()
