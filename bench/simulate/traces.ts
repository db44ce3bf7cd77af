// The workloads: who asks for which room when, how long each user takes to
// connect and stays, and which gateway fails when. Generated once per trace
// from a fixed seed; every strategy replays exactly the same users.
import type { RegionPool } from "../../src/config.ts"
import { between, chance, integer, mulberry32, type Random, weighted } from "./random.ts"

export const gatewayNames: ReadonlyArray<string> = Array.from({ length: 12 }, (_, i) => `gxy${i + 1}`)
export const gatewayCapacity = 400
export const avgRoomOccupancy = 10
export const serverRegions: ReadonlyArray<RegionPool> = [
  { country: "IL", gateways: ["gxy1", "gxy2", "gxy3"] },
  { country: "US", gateways: ["gxy4", "gxy5", "gxy6"] },
  { country: "RU", gateways: ["gxy7", "gxy8", "gxy9"] }
]

const second = 1_000
const minute = 60 * second

/** One connection of a user: request the server, connect, stay, leave. */
export interface Leg {
  /** Pause after the previous leg's leave (a reconnect); 0 for the first leg. */
  readonly gapBefore: number
  readonly connectDelay: number
  /** Planned time connected; the leg ends at request + connectDelay + stay whatever happens. */
  readonly stay: number
}

export interface User {
  readonly id: number
  readonly room: number
  readonly country: string | undefined
  /** When the first leg asks for the room's server (ms; negative during warm-up). */
  readonly requestAt: number
  readonly legs: ReadonlyArray<Leg>
}

export interface Outage {
  readonly gateway: string
  readonly downAt: number
  readonly upAt: number
}

export interface Trace {
  readonly name: string
  /** For file names. */
  readonly slug: string
  /** Measured span [0, duration) in ms; users may start earlier (warm-up). */
  readonly duration: number
  readonly warmup: number
  readonly rooms: number
  readonly users: ReadonlyArray<User>
  readonly outages: ReadonlyArray<Outage>
  readonly regions: ReadonlyArray<RegionPool>
}

/** How a room's occupants come and go; one occupant is one user id. */
interface Occupancy {
  readonly arrive: (seat: number) => number
  readonly leave: (arrivedAt: number) => { readonly at: number; readonly replaced: boolean }
  readonly refillBy: number
  readonly reconnectShare: number
}

type Country = string | undefined

/** The users of one room: each seat's occupant, and its replacement if it left early. */
const occupants = (random: Random, room: number, seats: number, how: Occupancy, country: () => Country, nextId: () => number) => {
  const users: Array<User> = []
  for (let seat = 0; seat < seats; seat++) {
    let arriveAt = how.arrive(seat)
    for (;;) {
      const { at: leaveAt, replaced } = how.leave(arriveAt)
      users.push({ id: nextId(), room, country: country(), requestAt: arriveAt, legs: legsOf(random, leaveAt - arriveAt, how.reconnectShare) })
      if (!replaced) break
      arriveAt = leaveAt + between(random, 10 * second, 120 * second)
      if (arriveAt > how.refillBy) break
    }
  }
  return users
}

/** Splits a visit into legs when the user reconnects (leaves and asks again 2–15 s later). */
const legsOf = (random: Random, span: number, reconnectShare: number): ReadonlyArray<Leg> => {
  const connect = () => Math.round(between(random, 1 * second, 10 * second))
  const first = connect()
  const online = Math.max(5 * second, span - first)
  if (!chance(random, reconnectShare) || online < 2 * minute) return [{ gapBefore: 0, connectDelay: first, stay: online }]
  const cut = Math.round(between(random, 0.2, 0.8) * online)
  const gap = Math.round(between(random, 2 * second, 15 * second))
  const second_ = connect()
  return [
    { gapBefore: 0, connectDelay: first, stay: cut },
    { gapBefore: gap, connectDelay: second_, stay: Math.max(5 * second, online - cut - gap - second_) }
  ]
}

const countryWeights: ReadonlyArray<readonly [string, number]> = [
  ["IL", 0.3], ["US", 0.3], ["RU", 0.3], ["DE", 0.03], ["FR", 0.02], ["GB", 0.02], ["BR", 0.02], ["UA", 0.01]
]

export interface Scale {
  /** Multiplies trace durations (not the service's timers). */
  readonly time: number
  /** Multiplies how many rooms are active (and so users). */
  readonly rooms: number
}

/**
 * Meetings that come and go: Poisson room starts, each room 20–60 min with
 * a steady head-count of 2–40 (most rooms small: 2 + 39u²), some users leave
 * early and are replaced. Rooms start during a warm-up before t = 0 so the
 * measured span begins in steady state.
 */
const steadyUsers = (seed: number, scale: Scale, withCountries: boolean) => {
  const random = mulberry32(seed)
  // A separate stream for countries, so the country mix has the same timing as steady.
  const geo = mulberry32(seed ^ 0x5bd1e995)
  const duration = 120 * minute * scale.time
  const lifeMin = 20 * minute * Math.min(1, scale.time * 2)
  const lifeMax = 60 * minute * Math.min(1, scale.time * 2)
  const warmup = lifeMax
  const activeRooms = 200 * scale.rooms
  const meanGap = (lifeMin + lifeMax) / 2 / activeRooms
  const users: Array<User> = []
  let id = 0
  let room = 0
  for (let start = -warmup; ; ) {
    start += -Math.log(1 - random()) * meanGap
    if (start >= duration) break
    room++
    const end = start + between(random, lifeMin, lifeMax)
    const seats = 2 + Math.floor(39 * random() ** 2)
    const home = withCountries ? weighted(geo, countryWeights) : undefined
    const country = () => (home === undefined ? undefined : chance(geo, 0.85) ? home : weighted(geo, countryWeights))
    users.push(...occupants(random, room, seats, {
      arrive: (seat) => (seat === 0 ? start : start + 3 * minute * random() ** 2),
      leave: (arrivedAt) =>
        chance(random, 0.75) || end - arrivedAt < 3 * minute
          ? { at: end - between(random, 0, 90 * second), replaced: false }
          : { at: between(random, arrivedAt + minute, end), replaced: true },
      refillBy: end - 2 * minute,
      reconnectShare: 0.15
    }, country, () => ++id))
  }
  return { users, rooms: room, duration, warmup }
}

/**
 * 500 classes that meet lesson after lesson: each lesson they start within
 * a minute, fill to their size over 2 minutes and last ~45 min, with a break
 * of 10 min before the next. The first `warmups` lessons are the warm-up
 * (the rooms' history); the measured span holds the others. `sizes: "kept"`: a class
 * has about the same size every lesson (its own 5–60, ±15 %); `"changed"`:
 * a new size every lesson.
 */
const lessonUsers = (seed: number, scale: Scale, warmups: number, lessons: number, sizes: "kept" | "changed") => {
  const random = mulberry32(seed)
  const lessonLength = 48 * minute * scale.time
  const lessonSpan = lessonLength + 10 * minute * scale.time
  const users: Array<User> = []
  let id = 0
  const rooms = Math.round(500 * scale.rooms)
  const base = Array.from({ length: rooms }, () => integer(random, 5, 60))
  for (let lesson = 0; lesson < lessons; lesson++) {
    const opening = (lesson - warmups) * lessonSpan
    for (let room = 1; room <= rooms; room++) {
      const seats = sizes === "kept" ? Math.max(2, Math.round(base[room - 1]! * between(random, 0.85, 1.15))) : integer(random, 5, 60)
      const start = opening + between(random, 0, minute)
      const end = start + between(random, 42, 48) * minute * scale.time
      users.push(...occupants(random, room, seats, {
        arrive: (seat) => (seat === 0 ? start : start + between(random, 0, 2 * minute)),
        leave: (arrivedAt) =>
          chance(random, 0.9)
            ? { at: end - between(random, 0, 2 * minute), replaced: false }
            : { at: between(random, Math.min(end, arrivedAt + 5 * minute * scale.time), end), replaced: false },
        refillBy: end,
        reconnectShare: 0.1
      }, () => undefined, () => ++id))
    }
  }
  return { users, rooms, duration: (lessons - warmups) * lessonSpan, warmup: warmups * lessonSpan }
}

const byRequest = (users: ReadonlyArray<User>) => [...users].sort((a, b) => a.requestAt - b.requestAt || a.id - b.id)

export const buildTraces = (scale: Scale): ReadonlyArray<Trace> => {
  const steady = steadyUsers(20_240_601, scale, false)
  const burst = lessonUsers(20_240_602, scale, 3, 5, "kept")
  const changed = lessonUsers(20_240_603, scale, 3, 5, "changed")
  // 130 classes (~4,000 users on 4,800 seats) whatever the scale: a lesson start the gateways can hold
  const fitting = lessonUsers(20_240_604, { time: scale.time, rooms: 130 / 500 }, 3, 5, "kept")
  const mix = steadyUsers(20_240_601, scale, true)
  return [
    { name: "steady", slug: "steady", ...steady, users: byRequest(steady.users), outages: [], regions: [] },
    { name: "class-start burst", slug: "class-start-burst", ...burst, users: byRequest(burst.users), outages: [], regions: [] },
    { name: "class-start burst within capacity", slug: "class-start-burst-fitting", ...fitting, users: byRequest(fitting.users), outages: [], regions: [] },
    { name: "class-start burst, sizes changed", slug: "class-start-burst-changed", ...changed, users: byRequest(changed.users), outages: [], regions: [] },
    {
      name: "gateway lost",
      slug: "gateway-lost",
      ...steady,
      users: byRequest(steady.users),
      outages: [{ gateway: "gxy3", downAt: Math.round(steady.duration / 3), upAt: Math.round((2 * steady.duration) / 3) }],
      regions: []
    },
    { name: "country mix", slug: "country-mix", ...mix, users: byRequest(mix.users), outages: [], regions: serverRegions }
  ]
}
