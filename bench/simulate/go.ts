// The Go service's three generations, as far as placement goes: how each
// measured load and chose, and the lifecycle gaps all three shared (a blunt
// cleaner, no adoption, no drain grace, no failover) that split rooms.
import { makeTally, type Placements, type Setup } from "./strategies.ts"

export type Generation = "gen1" | "gen2" | "gen3"

const cleanInterval = 60_000
const deadSessionPeriod = 90_000
/** gen3 read loads without a lock: requests this close together saw the same loads. */
const raceWindow = 200

interface Session {
  readonly gateway: string
  /** When its keepalives stopped (its gateway died); undefined while it is alive. */
  silentSince: number | undefined
}

export const goPlacements = (setup: Setup, generation: Generation): Placements => {
  const assignment = new Map<number, string>()
  const sessions = new Map<number, Map<number, Session>>()
  // The Go service also heard MQTT status: offline gateways got no new rooms.
  const online = new Set(setup.gateways)
  const reserved = new Set(setup.regions.flatMap((p) => p.gateways))
  const regions = generation === "gen1" ? [] : setup.regions
  let nextClean = setup.start + cleanInterval
  let snapshot: { readonly window: number; readonly loads: ReadonlyMap<string, number>; used: number } | undefined
  const tally = makeTally()

  const sessionsOf = (room: number) => {
    let s = sessions.get(room)
    if (s === undefined) sessions.set(room, (s = new Map()))
    return s
  }

  /** gen1: COUNT(DISTINCT user) over live sessions; rooms reserved but not yet joined cost nothing. */
  const distinctUsers = () => {
    const users = new Map<string, number>()
    for (const room of sessions.values()) {
      for (const s of room.values()) if (s.silentSince === undefined) users.set(s.gateway, (users.get(s.gateway) ?? 0) + 1)
    }
    return users
  }

  /** gen2 and gen3: assigned rooms × AVG_ROOM_OCCUPANCY, whatever their real size. */
  const roomLoads = () => {
    const loads = new Map<string, number>()
    for (const g of assignment.values()) loads.set(g, (loads.get(g) ?? 0) + setup.avgRoomOccupancy)
    return loads
  }

  const loadsAt = (now: number) => {
    if (generation !== "gen3") return roomLoads()
    const window = Math.floor(now / raceWindow)
    if (snapshot?.window !== window) snapshot = { window, loads: roomLoads(), used: 0 }
    // Every placement after the window's first decides without the rooms placed before it.
    if (snapshot.used++ > 0) tally.bump("placements on stale loads", now)
    return snapshot.loads
  }

  /** The first best by `better`; strict comparison keeps list order on ties. */
  const best = (candidates: ReadonlyArray<string>, load: (g: string) => number, better: (a: number, b: number) => boolean) => {
    let chosen: string | undefined
    for (const g of candidates) if (chosen === undefined || better(load(g), load(chosen))) chosen = g
    return chosen
  }

  const choose = (country: string | undefined, now: number): string | undefined => {
    const up = setup.gateways.filter((g) => online.has(g))
    if (generation === "gen1") {
      const users = distinctUsers()
      return best(up, (g) => users.get(g) ?? 0, (a, b) => a < b)
    }
    const loads = loadsAt(now)
    const load = (g: string) => loads.get(g) ?? 0
    const fitting = up.filter((g) => load(g) + setup.avgRoomOccupancy <= setup.capacity)
    const pool = regions.find((p) => p.country === country?.toUpperCase())
    const better = generation === "gen2" ? (a: number, b: number) => a > b : (a: number, b: number) => a < b
    // The same stages as ours: the country's pool, gateways no pool reserves, any, then least loaded.
    const stages = [
      pool === undefined ? [] : fitting.filter((g) => pool.gateways.includes(g)),
      fitting.filter((g) => !reserved.has(g)),
      fitting
    ]
    for (const stage of stages) {
      const g = best(stage, load, better)
      if (g !== undefined) return g
    }
    return best(up, load, (a, b) => a < b)
  }

  const clean = (now: number) => {
    for (const [room, s] of sessions) {
      for (const [user, session] of s) {
        if (session.silentSince !== undefined && now - session.silentSince >= deadSessionPeriod) s.delete(user)
      }
      if (s.size === 0) sessions.delete(room)
    }
    // Any assignment without a session right now goes, even one handed out a
    // second ago to users still connecting.
    for (const room of [...assignment.keys()]) {
      if (sessions.has(room)) continue
      assignment.delete(room)
      tally.bump("assignments deleted by the cleaner", now)
    }
  }

  return {
    request: (room, country, now) => {
      const current = assignment.get(room)
      if (current !== undefined) return { gateway: current, placed: false }
      const chosen = choose(country, now)
      if (chosen === undefined) return undefined
      assignment.set(room, chosen)
      return { gateway: chosen, placed: true }
    },
    // No adoption: the room's assignment (or lack of one) stays as it is.
    joined: (room, user, gateway) => {
      sessionsOf(room).set(user, { gateway, silentSince: undefined })
    },
    // No grace: the last leave frees the room at once.
    left: (room, user, now) => {
      const s = sessionsOf(room)
      s.delete(user)
      if (s.size === 0) {
        sessions.delete(room)
        if (assignment.delete(room)) tally.bump("assignments deleted by a last leave", now)
      }
    },
    // Nobody reports it; the session just stops sending keepalives.
    lost: () => {},
    gatewayDied: (gateway, now) => {
      for (const s of sessions.values()) for (const session of s.values()) if (session.gateway === gateway) session.silentSince = now
    },
    gatewayDown: (gateway) => {
      online.delete(gateway)
      return []
    },
    gatewayUp: (gateway) => {
      online.add(gateway)
    },
    nextWake: () => nextClean,
    wake: (now) => {
      for (; nextClean <= now; nextClean += cleanInterval) clean(nextClean)
    },
    counters: tally.counts
  }
}
