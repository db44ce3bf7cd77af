// The partition harness: three runners of the service, each in its own
// network namespace, under load, while one of them is paused, cut from
// Postgres, cut from its peers, given a slow and lossy link to Postgres, or
// has its clock stepped. Every call and answer is recorded; afterwards the
// checker (checker.ts) reads them against the database's committed history
// and the run fails on any violation.
//
//   npm run partition -- --quick              all five faults in one deployment (CI)
//   npm run partition                         each fault in a deployment of its own, held longer
//   npm run partition -- --faults pause,clock only these
//   npm run partition -- --broken [--quick]   against a copy of the service without its fences
//                                             (no version check or history key on commits, no
//                                             reload after a stall): passes only if caught
//   --out DIR   where the report, the history and the runners' logs go (default .ci/out/partition)
//
// Needs root (network namespaces, nftables), `nft` (Debian nftables),
// libfaketime (Debian faketime) for the clock fault, Postgres's programs
// and Mosquitto.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { mosquittoPath } from "../support/broker.ts"
import { postgresBinDir } from "../support/postgresServer.ts"
import { root as projectRoot } from "../support/process.ts"
import { answeredGateway, check, checks, type Check, type Report, total } from "./checker.ts"
import { faketimeLibrary, type LabDeployment, startDeployment } from "./deployment.ts"
import { type Fault, faults } from "./faults.ts"
import { type Call, type Phase, readFacts, type Rules } from "./history.ts"
import { createLab, type Lab, labProblem, removeLeftovers } from "./network.ts"
import { leavingEvent, probeRooms, startWorkload, userBody, type Workload } from "./workload.ts"

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    broken: { type: "boolean", default: false },
    faults: { type: "string" },
    out: { type: "string", default: join(projectRoot, ".ci/out/partition") }
  }
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const say = (line: string) => console.log(`[partition ${new Date().toISOString().slice(11, 19)}] ${line}`)

const rooms = Array.from({ length: 24 }, (_, i) => String(5001 + i))
// Rooms the load never touches, from which the pause takes its stale-timer
// rooms (those its struck runner hosts); at most `staleTimerRooms` of them,
// so that with the load's rooms they still fit on three serving gateways.
const spareRooms = Array.from({ length: 36 }, (_, i) => String(5001 + rooms.length + i))
const staleTimerRooms = 4
// Four gateways of ten rooms each, filled one after another (sequential), so
// placements keep meeting a full gateway; an operator keeps one of them
// draining, in turn, so rooms placed again move. Never all full: 30 places
// on the three serving ones for 24 rooms (no overflow).
const drainGrace = 1_000
const rules: Rules = { gateways: ["gxy1", "gxy2", "gxy3", "gxy4"], capacity: 100, averageOccupancy: 10, moveLease: Math.min(5_000, drainGrace / 4) }
const lockExpiration = 5_000
const env = {
  AVAILABLE_JANUS_SERVERS: rules.gateways.join(","),
  MAX_SERVER_CAPACITY: String(rules.capacity),
  AVG_ROOM_OCCUPANCY: String(rules.averageOccupancy),
  BALANCE_STRATEGY: "sequential",
  DRAIN_GRACE: `${drainGrace}ms`,
  DEAD_SESSION_PERIOD: "30s",
  CLEAN_SESSIONS_INTERVAL: "5s",
  CLUSTER_LOCK_EXPIRATION: `${lockExpiration / 1000}s`,
  LOG_LEVEL: "warn"
}

const timing = args.quick
  ? { warmUp: 8_000, hold: 12_000, recovery: 10_000 }
  : { warmUp: 15_000, hold: 20_000, recovery: 15_000 }

const chosen: ReadonlyArray<Fault> = (() => {
  if (args.faults === undefined) return faults
  const names = args.faults.split(",").map((s) => s.trim())
  const unknown = names.filter((n) => !faults.some((f) => f.name === n))
  if (unknown.length > 0) {
    console.error(`unknown fault ${unknown.join(", ")}; faults: ${faults.map((f) => f.name).join(", ")}`)
    process.exit(2)
  }
  return faults.filter((f) => names.includes(f.name))
})()

/**
 * A copy of the service, outside the project, without its three fences
 * against a process that acts on what it remembers: its commits no longer
 * check the room's version nor refuse a taken history seq, and it never
 * notices a stall of its own (so its rooms do not reload after one).
 */
const brokenBuild = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-broken-"))
  for (const part of ["src", "machines", "migrations", "package.json", "tsconfig.json"]) {
    cpSync(join(projectRoot, part), join(dir, part), { recursive: true })
  }
  symlinkSync(join(projectRoot, "node_modules"), join(dir, "node_modules"))
  const file = join(dir, "src/db/roomStore.ts")
  const text = readFileSync(file, "utf8")
  const checked = "WHERE room_id = ${roomId} AND version = ${c.version} ${reserved}"
  if (text.split(checked).length !== 2) throw new Error(`the broken build's patch no longer applies: ${checked} is not in src/db/roomStore.ts once`)
  // the history's primary key is the second fence: a stale step's seq is
  // taken, so its whole statement fails; the broken build skips the taken
  // rows instead, as a store without that key would
  const history = "}) v`"
  if (text.split(history).length !== 2) throw new Error(`the broken build's patch no longer applies: ${history} is not in src/db/roomStore.ts once`)
  writeFileSync(file, text.replace(checked, "WHERE room_id = ${roomId} ${reserved}").replace(history, "}) v ON CONFLICT DO NOTHING`"))
  // the third fence: after a stall a room reloads from storage before it
  // answers from memory; the broken build never sees a stall
  const stallsFile = join(dir, "src/rooms/stalls.ts")
  const stallsText = readFileSync(stallsFile, "utf8")
  const counted = "        return stalls\n"
  if (stallsText.split(counted).length !== 2) throw new Error(`the broken build's patch no longer applies: ${counted.trim()} is not in src/rooms/stalls.ts once`)
  writeFileSync(stallsFile, stallsText.replace(counted, "        return 0\n"))
  return dir
}

/**
 * While a fault holds, once the struck runner's shard locks may have
 * expired: each room the struck runner hosted when the fault began is moved
 * by an operator (a reassign, through another runner) and, a lease after
 * its move, asked for through the struck runner — the case where a runner
 * that lost its rooms could answer from memory. An answer naming the room's
 * old gateway is a violation (a).
 */
const moveAndAsk = async (workload: Workload, hosted: ReadonlyArray<string>, struck: number, mark: (what: string) => void) => {
  const other = (struck + 1) % 3
  await sleep(lockExpiration + 2_000)
  mark(`moving the ${hosted.length} rooms runner ${struck} hosted through runner ${other}, then asking for each through runner ${struck}`)
  const asked = await Promise.all(hosted.map(async (room) => {
    const moved = await workload.call("reassign", room, "POST", `/admin/assignments/${room}/reassign`, {}, {}, other)
    if (moved.status !== 200) return false
    await sleep(rules.moveLease + 750)
    workload.track(workload.call("room_server", room, "POST", "/v2/room_server", { room: Number(room) }, {}, struck))
    return true
  }))
  mark(`${asked.filter((a) => a).length} of them moved and asked for through runner ${struck}`)
}

/**
 * Just before a pause: rooms the struck runner hosts are left draining (a
 * user asks, joins and leaves through it), so their drain timers come due
 * while it is stopped. Once its shard locks may have lapsed, a user joins
 * each through another runner, which takes the room over (its overdue
 * drain releases it, the request places it again). When the stopped runner
 * resumes, its drain timers fire first, on rooms it no longer owns: each
 * room must reload from storage after the stall ("The process stalled"),
 * or its step be refused by the commit fences ("Room changed elsewhere") —
 * a build without them writes stale steps, which the checker must catch.
 * The second users stay, keeping alive, until the load stops.
 */
const staleTimers = async (workload: Workload, baited: Array<string>, candidates: ReadonlyArray<string>, struck: number, mark: (what: string) => void) => {
  const other = (struck + 1) % 3
  // "pu…" as every user of the load: the checker reads their sessions
  const userOf = (room: string, n: number) => `pu-stale-${room}-${n}`
  const visit = async (room: string, n: number, through: number, leave: boolean) => {
    const gateway = answeredGateway(await workload.call("room_server", room, "POST", "/v2/room_server", { room: Number(room) }, {}, through))
    if (gateway === undefined) return undefined
    const user = userOf(room, n)
    const session = 1 + Math.floor(Math.random() * 1e9)
    let keepalive = 0
    const body = () => userBody(room, gateway, session, user, keepalive)
    const joined = await workload.call("join", room, "PUT", `/users/${user}`, body(), { user, gateway, session, keepalive }, through)
    if (joined.status !== 200) return undefined
    if (leave) {
      const left = await workload.call("leave", room, "POST", "/event", leavingEvent(room, gateway, user), { user, gateway, session }, through)
      return left.status === 200 ? room : undefined
    }
    // stays, keeping alive (through any runner) until the load stops
    workload.track((async () => {
      while (!workload.stopping()) {
        await sleep(2_000)
        keepalive++
        await workload.call("keepalive", room, "PUT", `/users/${user}`, body(), { user, gateway, session, keepalive })
      }
    })())
    return room
  }
  const draining = (await Promise.all(candidates.slice(0, staleTimerRooms).map((room) => visit(room, 1, struck, true))))
    .filter((r): r is string => r !== undefined)
  baited.push(...draining)
  mark(`rooms ${draining.join(", ")} left draining on runner ${struck}, their drain timers due while it is stopped`)
  return async () => {
    await sleep(lockExpiration + 2_000)
    const taken = (await Promise.all(draining.map((room) => visit(room, 2, other, false)))).filter((r) => r !== undefined)
    mark(`a user joined ${taken.length} of them through runner ${other}, which took them over`)
  }
}

/** What must go if the run is interrupted: the current deployment and lab. */
const cleanups = new Set<() => Promise<void>>()

interface SessionResult {
  readonly label: string
  readonly report: Report
  readonly timeline: ReadonlyArray<string>
  readonly logs: Readonly<Record<string, number>>
  readonly seconds: number
}

/** Log lines worth counting in each runner's output. */
const logLines = {
  "The process stalled (its rooms reload)": "The process stalled",
  "Room changed elsewhere (a stale step refused)": "Room changed elsewhere",
  "Gateway load counters drifted": "Gateway load counters drifted",
  "Shard lock storage is unhealthy": "Shard lock storage is unhealthy",
  "errors logged": "level=ERROR"
}

/** One deployment under load through `run`'s faults, checked. */
const session = async (label: string, run: ReadonlyArray<Fault>, out: string, root: string | undefined): Promise<SessionResult> => {
  const t0 = Date.now()
  const dir = join(out, label)
  mkdirSync(dir, { recursive: true })
  let lab: Lab | undefined
  let deployment: LabDeployment | undefined
  const timeline: Array<string> = []
  const mark = (what: string) => {
    timeline.push(`${new Date().toISOString().slice(11, 23)} ${what}`)
    say(`${label}: ${what}`)
  }
  const cleanup = async () => {
    await deployment?.close()
    lab?.destroy()
  }
  cleanups.add(cleanup)
  try {
    lab = createLab(3)
    mark(`lab ${lab.host}/24: runners ${lab.runners.map((r) => `${r.address} (${r.namespace})`).join(", ")}`)
    deployment = await startDeployment(lab, { root, rooms: rooms.length + spareRooms.length, env, logDir: dir })
    await deployment.settled(120_000)
    mark("three runners hold every shard")
    const bases = lab.runners.map((r) => deployment!.base(r.index))
    const workload = startWorkload({ bases, rooms, arrivals: 5, visits: 2, stay: [1_000, 5_000], timeout: 30_000, rotateDrain: 3_000, gateways: rules.gateways })
    const baited: Array<string> = []
    const phases: Array<Phase> = [{ name: "warm-up", start: Date.now(), end: 0, detail: "load only" }]
    await sleep(timing.warmUp)
    for (const fault of run) {
      const start = Date.now()
      mark(`${fault.name}: ${fault.describe(timing.hold)}`)
      const hosts = await deployment.hosts(rooms)
      const hosted = rooms.filter((r) => hosts.get(r) === fault.runner)
      const spares = fault.staleTimers === true ? [...(await deployment.hosts(spareRooms)).entries()].filter(([, r]) => r === fault.runner).map(([room]) => room) : []
      const takeOver = spares.length > 0 ? await staleTimers(workload, baited, spares, fault.runner, mark) : async () => undefined
      await Promise.all([fault.run({ lab, deployment, hold: timing.hold, mark }), moveAndAsk(workload, hosted, fault.runner, mark), takeOver()])
      phases.push({ name: fault.name, start, end: 0, detail: fault.describe(timing.hold), runner: fault.runner, healed: Date.now() })
      await sleep(timing.recovery)
    }
    phases.push({ name: "final probe", start: Date.now(), end: 0, detail: "users leave; every room through every runner" })
    mark("load stopping: users leave")
    const calls: Array<Call> = [...await workload.stop()]
    await sleep(3_000)
    const probe = await probeRooms(bases, [...rooms, ...baited], 30_000, calls)
    mark(`final probe: ${probe.unanswered.length === 0 ? `every room answered through every runner within ${probe.ms} ms` : `${probe.unanswered.length} not answering`}`)
    // timers due now (drain graces) fire before the database is read
    await sleep(3_000)
    const facts = await deployment.snapshot(readFacts)
    const end = Date.now()
    // each runner's log, read once
    const logged = lab.runners.map((r) => deployment!.output(r.index).split("\n"))
    const drifts = logged.flatMap((lines, runner) =>
      lines.filter((l) => l.includes(logLines["Gateway load counters drifted"])).map((line) => ({
        at: Date.parse(/timestamp=(\S+)/.exec(line)?.[1] ?? "") || end,
        line: `runner ${runner}: ${line.slice(0, 300)}`
      })))
    const report = check({ calls, facts, rules, phases: phases.map((p, i) => ({ ...p, end: phases[i + 1]?.start ?? end })), unrecovered: probe.unanswered, end, drifts })
    writeFileSync(join(dir, "calls.jsonl"), calls.map((c) => JSON.stringify(c)).join("\n") + "\n")
    writeFileSync(join(dir, "transitions.jsonl"), facts.transitions.map((t) => JSON.stringify(t)).join("\n") + "\n")
    const logs: Record<string, number> = {}
    for (const [name, needle] of Object.entries(logLines)) {
      logs[name] = logged.reduce((n, lines) => n + lines.filter((l) => l.includes(needle)).length, 0)
    }
    return { label, report, timeline, logs, seconds: Math.round((Date.now() - t0) / 1000) }
  } finally {
    await cleanup()
    cleanups.delete(cleanup)
  }
}

const checkNames = Object.keys(checks) as Array<Check>

const markdown = (results: ReadonlyArray<SessionResult>, broken: boolean) => {
  const lines: Array<string> = []
  lines.push(`Partition run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${args.quick ? "--quick" : "full"}${broken ? ", --broken (version check, history key and reload after a stall removed)" : ""}; ` +
    `faults held ${timing.hold / 1000} s (CLUSTER_LOCK_EXPIRATION ${lockExpiration / 1000} s), ${timing.recovery / 1000} s of recovery after each.`)
  lines.push("")
  lines.push(`| phase | requests | answers | 200 | 503 | exposure | ${checkNames.join(" | ")} |`)
  lines.push(`|---|---:|---:|---:|---:|---:|${checkNames.map(() => "---:").join("|")}|`)
  for (const r of results) {
    for (const p of r.report.phases) {
      lines.push(`| ${results.length > 1 ? `${r.label}: ` : ""}${p.name} | ${p.requests} | ${p.answers} | ${p.ok} | ${p.unavailable} | ${p.exposure ?? ""} | ${checkNames.map((c) => p.violations[c]).join(" | ")} |`)
    }
  }
  lines.push("")
  for (const r of results) {
    const rep = r.report
    lines.push(`**${r.label}** (${r.seconds} s): ${rep.requests} requests, ${rep.answers} answered (${Object.entries(rep.byStatus).map(([s, n]) => `${s}: ${n}`).join(", ")}); ` +
      `${rep.transitions} transitions, ${rep.placements} placements, ${rep.roomsThatMoved} rooms answered more than one gateway over the run; ` +
      `violations ${checkNames.map((c) => `${c} ${rep.counts[c]}`).join(", ")}. Logged: ${Object.entries(r.logs).map(([k, n]) => `${k} ${n}`).join(", ")}.`)
    lines.push("")
    for (const v of rep.violations.slice(0, 15)) lines.push(`- (${v.check}) ${v.detail}`)
    if (rep.violations.length > 15) lines.push(`- … ${rep.violations.length - 15} more in report.json`)
    if (rep.violations.length > 0) lines.push("")
  }
  lines.push(`Checks: ${checkNames.map((c) => `(${c}) ${checks[c]}`).join("; ")}. Exposure: room requests through the struck runner, while the fault held, for a room whose gateway had changed since the fault began.`)
  return lines.join("\n") + "\n"
}

const main = async () => {
  const problem = labProblem() ??
    (postgresBinDir === undefined ? "Postgres's programs are not installed (/usr/lib/postgresql/*/bin)" : undefined) ??
    (mosquittoPath === undefined ? "mosquitto is not installed" : undefined) ??
    (chosen.some((f) => f.name === "clock") && faketimeLibrary === undefined ? "the clock fault needs libfaketime (Debian: faketime)" : undefined)
  if (problem !== undefined) {
    console.error(`partition: cannot run: ${problem}`)
    return 2
  }
  for (const ns of removeLeftovers()) say(`removed the namespace ${ns} of an earlier run`)
  const out = resolve(args.out)
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const root = args.broken ? brokenBuild() : undefined
  if (root !== undefined) say(`broken build (no version check or history key on commits, no reload after a stall) in ${root}`)
  const results: Array<SessionResult> = []
  try {
    const plan: ReadonlyArray<[string, ReadonlyArray<Fault>]> = args.quick || args.broken ? [["all", chosen]] : chosen.map((f) => [f.name, [f]])
    for (const [label, run] of plan) results.push(await session(label, run, out, root))
  } finally {
    if (root !== undefined) rmSync(root, { recursive: true, force: true })
  }
  const text = markdown(results, args.broken)
  writeFileSync(join(out, "report.md"), text)
  writeFileSync(join(out, "report.json"), JSON.stringify(results, null, 2))
  console.log(`\n${text}`)
  const found = results.reduce((n, r) => n + total(r.report.counts), 0)
  if (args.broken) {
    console.log(found > 0 ? `the broken build was caught: ${found} violations` : "the broken build was NOT caught: 0 violations")
    return found > 0 ? 0 : 1
  }
  const logged = (name: keyof typeof logLines) => results.reduce((n, r) => n + (r.logs[name] ?? 0), 0)
  if (chosen.some((f) => f.staleTimers === true)) {
    console.log(`the pause: ${logged("The process stalled (its rooms reload)")} stalls noticed, ${logged("Room changed elsewhere (a stale step refused)")} stale steps refused`)
  }
  console.log(found === 0 ? "every check at zero" : `${found} violations (report in ${out})`)
  return found === 0 ? 0 : 1
}

// Whatever happens, the namespaces and processes go: on a signal too.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    say(`${signal}: cleaning up`)
    void Promise.all([...cleanups].map((c) => c().catch(() => undefined))).finally(() => process.exit(130))
  })
}
main().then((code) => process.exit(code), (e) => {
  console.error(e)
  process.exit(1)
})
