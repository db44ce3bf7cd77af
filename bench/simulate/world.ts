// The simulated world: replays one trace's users against one strategy on a
// simulated clock and measures what users would feel: live users per
// gateway, rooms split across gateways, regional matches, moves off a dead gateway.
import { makeAgenda } from "./agenda.ts"
import { hashed } from "./random.ts"
import type { Placements, PredictionError, Strategy } from "./strategies.ts"
import { avgRoomOccupancy, gatewayCapacity, gatewayNames, type Trace, type User } from "./traces.ts"

/** How long a gateway's status takes to turn offline after it dies (FAILOVER_WAIT_TIME). */
const failoverWaitTime = 5_000

export interface Outcome {
  readonly strategy: string
  /** Per gateway: max over the measured span of live users / capacity. */
  readonly peakRatio: Readonly<Record<string, number>>
  readonly overCapacityUserSeconds: number
  /** The part of it that other live gateways had room for at that instant. */
  readonly avoidableUserSeconds: number
  readonly splitRooms: number
  readonly regionalAsked: number
  readonly regionalMatched: number
  readonly reassignments: number
  /** Rooms given a gateway by a request (not by failover). */
  readonly placements: number
  /** Requests answered with no gateway. */
  readonly refused: number
  /** Users kept off the service by a dead gateway (on it or sent to it), integrated over time. */
  readonly displacedUserSeconds: number
  readonly counters: Readonly<Record<string, number>>
  readonly prediction: PredictionError | undefined
  /** Live users per gateway at every sample, sampleStep ms apart from t = 0. */
  readonly series: ReadonlyArray<ReadonlyArray<number>>
  readonly sampleStep: number
}

type Phase = "asking" | "connecting" | "live" | "between" | "done"

interface Person {
  readonly user: User
  leg: number
  phase: Phase
  /** When the current leg ends whatever happens (the user would have left by then). */
  legEnd: number
  gateway: string | undefined
  /** The user has a session the service knows of (live, or stranded on a dead gateway). */
  hasSession: boolean
  /** The dead gateway this user was on or heading for, until it lands somewhere. */
  displaced: string | undefined
  attempts: number
  /** Bumped on every change; events carrying an older epoch are stale. */
  epoch: number
}

type Happening =
  | { readonly kind: "request" | "join" | "leave"; readonly user: number; readonly epoch: number }
  | { readonly kind: "die" | "detect" | "up"; readonly gateway: string }

export const simulate = (trace: Trace, strategy: Strategy, sampleStep: number): Outcome => {
  const start = Math.min(0, trace.users[0]?.requestAt ?? 0)
  const placements: Placements = strategy.make({
    gateways: gatewayNames,
    capacity: gatewayCapacity,
    avgRoomOccupancy,
    regions: trace.regions,
    start
  })
  const agenda = makeAgenda<Happening>()
  const people = new Map<number, Person>()
  const inRoom = new Map<number, Array<Person>>()
  const liveOn = new Map(gatewayNames.map((g) => [g, 0]))
  const roomLive = new Map<number, Map<string, number>>()
  const dead = new Set<string>()
  const pools = new Map(trace.regions.map((p) => [p.country, p.gateways]))
  const peak = new Map(gatewayNames.map((g) => [g, 0]))
  const series = gatewayNames.map((): Array<number> => [])
  const split = new Set<number>()
  // Users a dead gateway displaced; dropped once they land or leave, so counting them stays cheap.
  const displacedPeople = new Set<Person>()
  let displacedSeconds = 0
  let over = 0, avoidable = 0, asked = 0, matched = 0, reassignments = 0, placed = 0, refused = 0

  const legOf = (p: Person) => p.user.legs[p.leg]!
  const schedule = (p: Person, kind: "request" | "join" | "leave", at: number) => agenda.add(at, { kind, user: p.user.id, epoch: ++p.epoch })
  // Client behaviour while things go wrong, fixed per user and attempt so every strategy sees the same.
  const pause = (p: Person, low: number, high: number) => Math.round(low + (high - low) * hashed(p.user.id, p.leg, p.attempts, low))

  for (const user of trace.users) {
    const first = user.legs[0]!
    const p: Person = { user, leg: 0, phase: "asking", legEnd: user.requestAt + first.connectDelay + first.stay, gateway: undefined, hasSession: false, displaced: undefined, attempts: 0, epoch: 0 }
    people.set(user.id, p)
    const roommates = inRoom.get(user.room)
    if (roommates === undefined) inRoom.set(user.room, [p])
    else roommates.push(p)
    schedule(p, "request", user.requestAt)
  }
  for (const o of trace.outages) {
    agenda.add(o.downAt, { kind: "die", gateway: o.gateway })
    agenda.add(o.downAt + failoverWaitTime, { kind: "detect", gateway: o.gateway })
    agenda.add(o.upAt, { kind: "up", gateway: o.gateway })
  }

  const count = (p: Person, gateway: string, delta: 1 | -1) => {
    liveOn.set(gateway, liveOn.get(gateway)! + delta)
    let room = roomLive.get(p.user.room)
    if (room === undefined) roomLive.set(p.user.room, (room = new Map()))
    room.set(gateway, (room.get(gateway) ?? 0) + delta)
  }

  const goLive = (p: Person, gateway: string, now: number) => {
    p.phase = "live"
    p.gateway = gateway
    p.hasSession = true
    count(p, gateway, 1)
    if (now >= 0) {
      const others = [...roomLive.get(p.user.room)!].some(([g, n]) => g !== gateway && n > 0)
      if (others) split.add(p.user.room)
      peak.set(gateway, Math.max(peak.get(gateway)!, liveOn.get(gateway)! / gatewayCapacity))
      if (p.displaced !== undefined && p.displaced !== gateway) reassignments++
    }
    p.displaced = undefined
    placements.joined(p.user.room, p.user.id, gateway, now)
    schedule(p, "leave", p.legEnd)
  }

  /** The leg is over (left, or gave up); the next one asks again after its gap. */
  const endLeg = (p: Person, now: number) => {
    if (p.phase === "live") {
      count(p, p.gateway!, -1)
      placements.left(p.user.room, p.user.id, now)
    } else if (p.hasSession) {
      placements.lost(p.user.room, p.user.id, now)
    }
    p.hasSession = false
    p.displaced = undefined
    p.attempts = 0
    const next = p.user.legs[p.leg + 1]
    if (next === undefined) {
      p.phase = "done"
      p.epoch++
      return
    }
    p.leg++
    p.phase = "between"
    const askAt = now + next.gapBefore
    p.legEnd = askAt + next.connectDelay + next.stay
    schedule(p, "request", askAt)
  }

  /** Asks the server again after a pause: the connection failed, or the client saw its gateway die. */
  const retry = (p: Person, now: number, low = 3_000, high = 10_000) => {
    p.attempts++
    p.phase = "asking"
    schedule(p, "request", now + pause(p, low, high))
  }

  const onRequest = (p: Person, now: number) => {
    if (now >= p.legEnd) return endLeg(p, now)
    const answer = placements.request(p.user.room, p.user.country, now)
    if (answer === undefined) {
      if (now >= 0) refused++
      return retry(p, now)
    }
    if (answer.placed && now >= 0) {
      placed++
      const pool = p.user.country === undefined ? undefined : pools.get(p.user.country)
      if (pool !== undefined) {
        asked++
        if (pool.includes(answer.gateway)) matched++
      }
    }
    p.phase = "connecting"
    p.gateway = answer.gateway
    schedule(p, "join", now + (p.attempts === 0 ? legOf(p).connectDelay : pause(p, 1_000, 10_000)))
  }

  const onJoin = (p: Person, now: number) => {
    if (now >= p.legEnd) return endLeg(p, now)
    const gateway = p.gateway!
    if (!dead.has(gateway)) return goLive(p, gateway, now)
    p.displaced ??= gateway
    displacedPeople.add(p)
    retry(p, now)
  }

  const onDie = (gateway: string, now: number) => {
    dead.add(gateway)
    placements.gatewayDied(gateway, now)
    for (const p of people.values()) {
      if (p.phase !== "live" || p.gateway !== gateway) continue
      count(p, gateway, -1)
      p.displaced = gateway
      displacedPeople.add(p)
      // Their clients notice the dead connection and ask the server again.
      retry(p, now, 2_000, 15_000)
    }
  }

  const onDetect = (gateway: string, now: number) => {
    for (const { room, to } of placements.gatewayDown(gateway, now)) {
      if (dead.has(to)) continue
      // Failover: the room's users follow it to its new gateway.
      for (const p of inRoom.get(room) ?? []) if (p.hasSession && p.phase !== "live") goLive(p, to, now)
    }
  }

  const sample = (at: number) => {
    let excess = 0, spare = 0, displaced = 0
    for (const p of displacedPeople) {
      if (p.displaced === undefined) displacedPeople.delete(p)
      else displaced++
    }
    displacedSeconds += (displaced * sampleStep) / 1_000
    gatewayNames.forEach((g, i) => {
      const live = liveOn.get(g)!
      series[i]!.push(live)
      if (at === 0) peak.set(g, Math.max(peak.get(g)!, live / gatewayCapacity))
      excess += Math.max(0, live - gatewayCapacity)
      if (!dead.has(g)) spare += Math.max(0, gatewayCapacity - live)
    })
    over += (excess * sampleStep) / 1_000
    avoidable += (Math.min(excess, spare) * sampleStep) / 1_000
  }

  let nextSample = 0
  for (;;) {
    const due = agenda.peek()
    const wake = placements.nextWake()
    const next = Math.min(due ?? Infinity, wake ?? Infinity)
    // A sample shows the state just before anything due at its instant.
    for (; nextSample < trace.duration && nextSample <= next; nextSample += sampleStep) sample(nextSample)
    if (next >= trace.duration) break
    if (wake !== undefined && wake <= next) {
      placements.wake(wake)
      continue
    }
    const { at, item } = agenda.pop()!
    switch (item.kind) {
      case "die":
        onDie(item.gateway, at)
        break
      case "detect":
        onDetect(item.gateway, at)
        break
      case "up":
        dead.delete(item.gateway)
        placements.gatewayUp(item.gateway, at)
        break
      default: {
        const p = people.get(item.user)!
        if (item.epoch !== p.epoch) break
        if (item.kind === "request") onRequest(p, at)
        else if (item.kind === "join") onJoin(p, at)
        else endLeg(p, at)
      }
    }
  }

  return {
    strategy: strategy.name,
    peakRatio: Object.fromEntries(peak),
    overCapacityUserSeconds: Math.round(over),
    avoidableUserSeconds: Math.round(avoidable),
    splitRooms: split.size,
    regionalAsked: asked,
    regionalMatched: matched,
    reassignments,
    placements: placed,
    refused,
    displacedUserSeconds: Math.round(displacedSeconds),
    counters: placements.counters(),
    prediction: placements.predictionError?.(),
    series,
    sampleStep
  }
}
