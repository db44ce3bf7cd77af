// The checker: reads the run's history (every call and answer, with its
// times) against what the database committed (every transition, with its
// commit time) and reports what a client or an operator would call wrong.
// Pure: the same history gives the same report.
//
//   a  split or stale gateway: an answer naming a gateway the room did not
//      hold at any instant between the request and its answer (as the
//      room's committed history says — a failover, drain and release, or a
//      placement in between explains a change; nothing else does). After
//      a room in use is moved at once (an operator's reassign, a failover)
//      its previous gateway may still be answered for the read view's
//      lease, as documented; not later.
//   b  overcommit: a placement that left its gateway above capacity while
//      another gateway had room (and surely took rooms: not set draining)
//      all through the second before it committed (room freed later than
//      that may have come after the placement read the counters)
//   c  lost writes: an acknowledged join or keepalive that the sessions
//      table does not hold (the session, or a keepalive at least as new)
//   d  history: a room's transition seqs with a gap or a duplicate
//   e  answers: anything but a documented success or a JSON 503 with
//      Retry-After (other statuses, bodies that are not JSON, no answer)
//   f  stored state: a room's snapshot, history, assignment row and the
//      gateways' load counters disagreeing once the run is over, or any
//      counter drift the service's own reconciliation found (and corrected)
//      during the run
//   g  recovery: a room that still does not answer through every runner
//      well after the last fault healed
import type { Call, Facts, Phase, Rules, Transition } from "./history.ts"

export const checks = {
  a: "answer named a gateway the room did not hold",
  b: "gateway over capacity while another had room",
  c: "acknowledged join or keepalive not stored",
  d: "history seq gap or duplicate",
  e: "answer neither a documented success nor a JSON 503",
  f: "stored state incoherent after the run",
  g: "room not answering after recovery"
} as const
export type Check = keyof typeof checks

export interface Violation {
  readonly check: Check
  /** Epoch ms: when it happened (a call's start, a commit), for attributing it to a phase. */
  readonly at: number
  readonly room?: string | undefined
  readonly detail: string
}

export interface PhaseCounts {
  readonly name: string
  readonly detail: string
  readonly requests: number
  readonly answers: number
  readonly ok: number
  readonly unavailable: number
  readonly violations: Readonly<Record<Check, number>>
  /**
   * How hard the fault tested stale answers: room requests through the
   * struck runner, made while the fault held, for a room whose gateway had
   * changed since the fault began (each one a chance to answer from memory).
   */
  readonly exposure?: number | undefined
}

export interface Report {
  readonly requests: number
  /** Calls that got an HTTP answer. */
  readonly answers: number
  readonly byStatus: Readonly<Record<string, number>>
  readonly byOperation: Readonly<Record<string, number>>
  readonly transitions: number
  readonly placements: number
  /** Rooms that answered more than one gateway over the run (each explained by its history, or a violation). */
  readonly roomsThatMoved: number
  readonly counts: Readonly<Record<Check, number>>
  readonly violations: ReadonlyArray<Violation>
  readonly phases: ReadonlyArray<PhaseCounts>
}

const holds = (t: Transition) => (t.to === "assigned" || t.to === "draining" ? t.gateway : null)

const json = (body: string): unknown => {
  try {
    return JSON.parse(body)
  } catch {
    return undefined
  }
}

/** The gateway a call's 200 answer names (room_server only). */
export const answeredGateway = (c: Call): string | undefined => {
  if (c.op !== "room_server" || c.status !== 200) return undefined
  const janus = (json(c.body) as { janus?: unknown } | undefined)?.janus
  return typeof janus === "string" ? janus : undefined
}

/** Whether the answer is one the API documents: its success shape, or a 503 with a JSON error and Retry-After. */
export const documented = (c: Call): boolean => {
  const body = json(c.body) as Record<string, unknown> | undefined
  const isJson = c.contentType?.startsWith("application/json") === true && typeof body === "object" && body !== null
  if (c.status === 200) {
    return isJson && (c.op === "room_server"
      ? typeof body!.janus === "string"
      : c.op === "drain"
      ? body!.name === c.gateway
      : c.op === "reassign"
      ? true
      : body!.result === "success")
  }
  if (c.status === 503) return isJson && typeof body!.error === "string" && c.retryAfter !== undefined
  // an operator's move of a room that has no assignment, or is draining, or has nowhere to go
  if (c.op === "reassign" && (c.status === 404 || c.status === 409)) return isJson && typeof body!.error === "string"
  return false
}

const byRoom = <A extends { readonly room: string }>(items: ReadonlyArray<A>) => {
  const map = new Map<string, Array<A>>()
  for (const i of items) {
    const list = map.get(i.room)
    if (list === undefined) map.set(i.room, [i])
    else list.push(i)
  }
  return map
}

/** Transitions that move a room in use at once: its users learn the new gateway as after a failover. */
const moves = new Set(["REASSIGN.REQUESTED", "GATEWAY.DOWN"])

// a: each answer against the room's committed history
const staleAnswers = (calls: ReadonlyArray<Call>, history: ReadonlyMap<string, ReadonlyArray<Transition>>, rules: Rules): Array<Violation> => {
  const out: Array<Violation> = []
  for (const c of calls) {
    const g = answeredGateway(c)
    if (g === undefined) continue
    const rows = history.get(c.room) ?? []
    // the room's gateway when the request was sent, then every change until its answer (1 ms for the clocks' rounding)
    let before: Transition | undefined
    const during: Array<Transition> = []
    for (const t of rows) {
      if (t.committed <= c.sent - 1) before = t
      else if (t.committed <= c.received + 1) during.push(t)
    }
    const held = [before === undefined ? null : holds(before), ...during.map(holds)]
    if (held.includes(g)) continue
    // the gateway a room had until a move, answered within the lease after it
    const moved = rows.some((t, i) =>
      moves.has(t.event) && i > 0 && holds(rows[i - 1]!) === g && t.committed <= c.received + 1 && c.sent <= t.committed + rules.moveLease
    )
    if (moved) continue
    out.push({
      check: "a",
      at: c.sent,
      room: c.room,
      detail: `room ${c.room} answered ${g} through runner ${c.runner} (call ${c.id}, ${c.received - c.sent} ms), but held ` +
        `${held.map((h) => h ?? "no gateway").join(" → ")} meanwhile (seq ${before?.seq ?? 0}${during.length > 0 ? `…${during.at(-1)!.seq}` : ""})`
    })
  }
  return out
}

/**
 * Whether gateway `g` surely took new rooms at `t`: not set draining by the
 * operator's last acknowledged call before `t`, and no call about it in
 * flight (or unanswered: it may have been applied) around `t`.
 */
const surelyServing = (calls: ReadonlyArray<Call>) => {
  const byGateway = new Map<string, Array<Call>>()
  for (const c of calls) {
    if (c.op !== "drain" || c.gateway === undefined) continue
    byGateway.set(c.gateway, [...(byGateway.get(c.gateway) ?? []), c])
  }
  return (g: string, t: number) => {
    let draining = false
    let uncertainSince: number | undefined
    for (const c of (byGateway.get(g) ?? []).sort((x, y) => x.sent - y.sent)) {
      if (c.sent > t) break
      if (c.status === 200 && c.received < t) {
        draining = c.draining === true
        uncertainSince = undefined
      } else uncertainSince ??= c.sent
    }
    return !draining && uncertainSince === undefined
  }
}

/**
 * How long before its commit a placement may have read the counters: room a
 * gateway gained within this (a concurrent move or release committing
 * between the placement's read and its write) is not room it could see.
 */
export const placementReadWindow = 1_000

// b: replay every commit in order, keeping each gateway's load (and its recent values)
const overcommits = (
  transitions: ReadonlyArray<Transition>,
  rules: Rules,
  serving: (g: string, t: number) => boolean
): { violations: Array<Violation>; placements: number } => {
  const ordered = [...transitions].sort((x, y) => x.committed - y.committed || x.room.localeCompare(y.room) || x.seq - y.seq)
  const rooms = new Map<string, { gateway: string | null; sessions: number }>()
  const load = new Map<string, number>(rules.gateways.map((g) => [g, 0]))
  // each gateway's load after each commit that changed it
  const changes = new Map<string, Array<{ readonly at: number; readonly load: number }>>()
  const change = (g: string, delta: number, at: number) => {
    const next = (load.get(g) ?? 0) + delta
    load.set(g, next)
    const list = changes.get(g)
    if (list === undefined) changes.set(g, [{ at, load: next }])
    else list.push({ at, load: next })
  }
  /** The most `g` held from `from` until now: the least room it could have shown a placement reading then. */
  const heldSince = (g: string, from: number) => {
    const list = changes.get(g) ?? []
    let most = load.get(g) ?? 0
    for (let i = list.length - 1; i >= 0; i--) {
      most = Math.max(most, list[i]!.load)
      if (list[i]!.at < from) break
    }
    return most
  }
  const weight = (sessions: number) => Math.max(sessions, rules.averageOccupancy)
  const violations: Array<Violation> = []
  // the gateway a room is being moved off (a reassign or its gateway down): not eligible for its placement
  const leaving = new Map<string, string>()
  let placements = 0
  for (const t of ordered) {
    const old = rooms.get(t.room)
    if (moves.has(t.event) && old?.gateway != null) leaving.set(t.room, old.gateway)
    if (old?.gateway != null) change(old.gateway, -weight(old.sessions), t.committed)
    const now = { gateway: holds(t), sessions: t.sessions ?? old?.sessions ?? 0 }
    rooms.set(t.room, now)
    if (now.gateway !== null) change(now.gateway, weight(now.sessions), t.committed)
    if (t.event !== "BALANCER.DONE" || now.gateway === null) continue
    placements++
    const left = leaving.get(t.room)
    leaving.delete(t.room)
    const mine = load.get(now.gateway) ?? 0
    if (mine <= rules.capacity) continue
    const roomy = rules.gateways.filter((g) =>
      g !== now.gateway && g !== left && serving(g, t.committed) &&
      heldSince(g, t.committed - placementReadWindow) + weight(now.sessions) <= rules.capacity
    )
    if (roomy.length === 0) continue
    violations.push({
      check: "b",
      at: t.committed,
      room: t.room,
      detail: `room ${t.room} placed on ${now.gateway} (seq ${t.seq}) took it to ${mine} of ${rules.capacity} while ${
        roomy.map((g) => `${g} had ${load.get(g)}`).join(", ")
      }`
    })
  }
  return { violations, placements }
}

// c: acknowledged joins and keepalives in the sessions table
const lostWrites = (calls: ReadonlyArray<Call>, facts: Facts): Array<Violation> => {
  const stored = new Map<string, { created: number; keepalive: number }>()
  for (const s of facts.sessions) {
    const key = `${s.user}|${s.gateway}|${s.session}`
    const old = stored.get(key)
    stored.set(key, {
      created: Math.min(old?.created ?? Infinity, s.created),
      keepalive: Math.max(old?.keepalive ?? -1, s.keepalive ?? -1)
    })
  }
  const out: Array<Violation> = []
  for (const c of calls) {
    if ((c.op !== "join" && c.op !== "keepalive") || c.status !== 200) continue
    const s = stored.get(`${c.user}|${c.gateway}|${c.session}`)
    if (s !== undefined && s.keepalive >= (c.keepalive ?? 0)) continue
    out.push({
      check: "c",
      at: c.sent,
      room: c.room,
      detail: s === undefined
        ? `${c.op} of ${c.user} on ${c.gateway} (call ${c.id}, through runner ${c.runner}) was acknowledged, but no such session is stored`
        : `keepalive ${c.keepalive} of ${c.user} (call ${c.id}, through runner ${c.runner}) was acknowledged, but the stored session has keepalive ${s.keepalive}`
    })
  }
  return out
}

// d: seqs 1…n per room
const historyGaps = (history: ReadonlyMap<string, ReadonlyArray<Transition>>): Array<Violation> => {
  const out: Array<Violation> = []
  for (const [room, rows] of history) {
    const seqs = rows.map((t) => t.seq).sort((x, y) => x - y)
    for (let i = 0; i < seqs.length; i++) {
      const expected = i + 1
      if (seqs[i] === expected) continue
      const at = rows.find((t) => t.seq === seqs[i])?.committed ?? 0
      out.push({
        check: "d",
        at,
        room,
        detail: seqs[i] === seqs[i - 1] ? `room ${room}: seq ${seqs[i]} twice` : `room ${room}: seq ${expected} missing (next is ${seqs[i]})`
      })
      break
    }
  }
  return out
}

// f: the snapshot is the state after the last transition; the assignment row and counters follow it
const incoherent = (facts: Facts, history: ReadonlyMap<string, ReadonlyArray<Transition>>, end: number, totals: Readonly<Record<string, number>>): Array<Violation> => {
  const out: Array<Violation> = []
  for (const r of facts.rooms) {
    const last = (history.get(r.room) ?? []).reduce<Transition | undefined>((m, t) => (m === undefined || t.seq > m.seq ? t : m), undefined)
    const problems: Array<string> = []
    if ((r.seq ?? 0) !== (last?.seq ?? 0)) problems.push(`snapshot seq ${r.seq ?? "none"} but history ends at ${last?.seq ?? 0}`)
    else if (last !== undefined && r.state !== last.to) problems.push(`snapshot ${r.state} but the last transition went to ${last.to}`)
    const assigned = r.state === "assigned" || r.state === "draining"
    if (assigned && r.assignment !== r.gateway) problems.push(`snapshot ${r.state} on ${r.gateway} but the assignment row says ${r.assignment ?? "none"}`)
    if (!assigned && r.assignment !== null) problems.push(`snapshot ${r.state ?? "none"} but an assignment row on ${r.assignment}`)
    if (problems.length > 0) out.push({ check: "f", at: end, room: r.room, detail: `room ${r.room}: ${problems.join("; ")}` })
  }
  for (const g of new Set([...Object.keys(facts.counters), ...Object.keys(totals)])) {
    if ((facts.counters[g] ?? 0) !== (totals[g] ?? 0)) {
      out.push({ check: "f", at: end, detail: `${g}: load counter ${facts.counters[g] ?? 0}, its assignments add up to ${totals[g] ?? 0}` })
    }
  }
  return out
}

const zero = (): Record<Check, number> => ({ a: 0, b: 0, c: 0, d: 0, e: 0, f: 0, g: 0 })

export interface CheckInput {
  readonly calls: ReadonlyArray<Call>
  readonly facts: Facts
  readonly rules: Rules
  readonly phases: ReadonlyArray<Phase>
  /** Rooms (through a runner) that did not answer in the final probe. */
  readonly unrecovered: ReadonlyArray<string>
  /** When the run ended (the facts were read). */
  readonly end: number
  /** The runners' log lines that report counter drift (the reconciliation corrected it, but it happened). */
  readonly drifts?: ReadonlyArray<{ readonly at: number; readonly line: string }>
}

export const check = (input: CheckInput): Report => {
  const { calls, facts, rules, phases } = input
  const history = byRoom(facts.transitions)
  for (const rows of history.values()) rows.sort((x, y) => x.seq - y.seq)
  const placed = overcommits(facts.transitions, rules, surelyServing(calls))
  const violations: Array<Violation> = [
    ...staleAnswers(calls, history, rules),
    ...placed.violations,
    ...lostWrites(calls, facts),
    ...historyGaps(history),
    ...calls.filter((c) => !documented(c)).map((c): Violation => ({
      check: "e",
      at: c.sent,
      room: c.room,
      detail: `${c.op} of room ${c.room} through runner ${c.runner} (call ${c.id}): ${c.status}` +
        `${c.contentType === undefined ? "" : ` ${c.contentType}`}${c.status === 503 && c.retryAfter === undefined ? " without Retry-After" : ""} ${c.body.slice(0, 120)}`
    })),
    ...incoherent(facts, history, input.end, facts.assignedLoads),
    ...(input.drifts ?? []).map((d): Violation => ({ check: "f", at: d.at, detail: `counter drift corrected during the run: ${d.line}` })),
    ...input.unrecovered.map((what): Violation => ({ check: "g", at: input.end, detail: `${what} did not answer 200 in the final probe` }))
  ].sort((x, y) => x.at - y.at)

  const counts = zero()
  for (const v of violations) counts[v.check]++
  const tally = (list: ReadonlyArray<string>) => {
    const out: Record<string, number> = {}
    for (const k of list) out[k] = (out[k] ?? 0) + 1
    return out
  }
  const gatewaysSeen = new Map<string, Set<string>>()
  for (const c of calls) {
    const g = answeredGateway(c)
    if (g === undefined) continue
    const seen = gatewaysSeen.get(c.room) ?? new Set()
    seen.add(g)
    gatewaysSeen.set(c.room, seen)
  }
  const phaseOf = (at: number) => phases.findLast((p) => p.start <= at)?.name
  const heldAt = (room: string, t: number) => {
    let g: string | null = null
    for (const row of history.get(room) ?? []) if (row.committed <= t) g = holds(row)
    return g
  }
  const exposure = (p: Phase) =>
    p.runner === undefined || p.healed === undefined ? undefined : calls.filter((c) => {
      if (c.op !== "room_server" || c.runner !== p.runner || c.sent < p.start || c.sent > p.healed!) return false
      const now = heldAt(c.room, c.sent)
      return now !== null && now !== heldAt(c.room, p.start)
    }).length
  return {
    requests: calls.length,
    answers: calls.filter((c) => typeof c.status === "number").length,
    byStatus: tally(calls.map((c) => String(c.status))),
    byOperation: tally(calls.map((c) => c.op)),
    transitions: facts.transitions.length,
    placements: placed.placements,
    roomsThatMoved: [...gatewaysSeen.values()].filter((s) => s.size > 1).length,
    counts,
    violations,
    phases: phases.map((p) => {
      const mine = calls.filter((c) => phaseOf(c.sent) === p.name)
      const found = zero()
      for (const v of violations) if (phaseOf(v.at) === p.name) found[v.check]++
      return {
        name: p.name,
        detail: p.detail,
        requests: mine.length,
        answers: mine.filter((c) => typeof c.status === "number").length,
        ok: mine.filter((c) => c.status === 200).length,
        unavailable: mine.filter((c) => c.status === 503).length,
        violations: found,
        exposure: exposure(p)
      }
    })
  }
}

export const total = (counts: Readonly<Record<Check, number>>) => Object.values(counts).reduce((n, v) => n + v, 0)
