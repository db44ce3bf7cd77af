// The benchmarked traffic: each scenario is a request generator that runs
// against the service and, unchanged, against the bare-Node baseline.
import autocannon from "autocannon"

export interface Sizes {
  /** Fresh rooms for first requests. */
  readonly newRooms: number
  /** Rooms × users for GET /rooms. */
  readonly liveRooms: number
  readonly usersPerRoom: number
  readonly seconds: number
  readonly connections: number
}

export const firstRoom = 100_000
/** Rooms assigned and filled with users before the scenarios run. */
export const liveRoom = (i: number) => firstRoom + i
export const newRoom = (sizes: Sizes, i: number) => firstRoom + 1_000_000 + (i % sizes.newRooms)
export const mixedNewRoom = (sizes: Sizes, i: number) => firstRoom + 2_000_000 + (i % sizes.newRooms)
/** Rooms assigned before the scenarios run with nobody joined (a class about to start). */
export const reservedRoom = (i: number) => firstRoom + 3_000_000 + i
export const gatewayOf = (room: number) => `gxy${(room % 12) + 1}`

export const userBody = (room: number, user: number) =>
  JSON.stringify({
    room,
    janus: gatewayOf(room),
    display: `User ${user}`,
    session: room * 100 + user,
    handle: room * 100 + user,
    rfid: room * 100 + user,
    camera: true,
    country: "IL"
  })

/** Failed requests of a run: a 304 is the answer a poller wants, not an error. */
export const errorsOf = (result: autocannon.Result) => result.errors + result.timeouts + result["4xx"] + result["5xx"]

const json = { "content-type": "application/json" }
const pick = (n: number) => Math.floor(Math.random() * n)

export interface Scenario {
  readonly name: string
  readonly describe: string
  /** Against one process, or several (connections spread over them). */
  readonly run: (base: string | ReadonlyArray<string>, sizes: Sizes) => Promise<autocannon.Result>
}

const cannon = (base: string | ReadonlyArray<string>, sizes: Sizes, options: Partial<autocannon.Options>) =>
  autocannon({ url: typeof base === "string" ? base : [...base], connections: sizes.connections, duration: sizes.seconds, ...options } as autocannon.Options)

/** One request after another, the `n`th as `make(n)` builds it. */
const numbered = (base: string | ReadonlyArray<string>, sizes: Sizes, make: (n: number) => Partial<autocannon.Request>, options: Partial<autocannon.Options> = {}) => {
  let next = 0
  return cannon(base, sizes, { ...options, requests: [{ setupRequest: (req) => ({ ...req, ...make(next++) }) }] })
}

/** POST /v2/room_server for the room `room()` picks, as the web client sends it. */
const roomServerFor = (base: string | ReadonlyArray<string>, sizes: Sizes, room: () => number) =>
  cannon(base, sizes, {
    requests: [{
      method: "POST",
      path: "/v2/room_server",
      headers: json,
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ room: room(), geo: { country_code: "IL" } }) })
    }]
  })

export const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "sticky",
    describe: "POST /v2/room_server for rooms already assigned and in use",
    run: (base, sizes) => roomServerFor(base, sizes, () => liveRoom(pick(sizes.liveRooms)))
  },
  {
    name: "new rooms",
    describe: "POST /v2/room_server, each for a room never requested (balancer + writes)",
    run: (base, sizes) =>
      numbered(base, sizes, (n) => ({ method: "POST", path: "/v2/room_server", headers: json, body: JSON.stringify({ room: newRoom(sizes, n) }) }), {
        amount: sizes.newRooms
      })
  },
  {
    name: "mixed",
    describe: "70% keepalives (PUT /users/:id), 20% sticky, 5% new rooms, 5% leaves (POST /event)",
    run: (base, sizes) => {
      let fresh = 0
      return cannon(base, sizes, {
        requests: [{
          setupRequest: (req) => {
            const dice = Math.random()
            const room = liveRoom(pick(sizes.liveRooms))
            const user = pick(sizes.usersPerRoom)
            if (dice < 0.7) return { ...req, method: "PUT", path: `/users/bench-${room}-${user}`, headers: json, body: userBody(room, user) }
            if (dice < 0.9) return { ...req, method: "POST", path: "/v2/room_server", headers: json, body: JSON.stringify({ room }) }
            if (dice < 0.95) {
              return { ...req, method: "POST", path: "/v2/room_server", headers: json, body: JSON.stringify({ room: mixedNewRoom(sizes, fresh++) }) }
            }
            const leaving = {
              emitter: gatewayOf(room),
              type: 64,
              event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", room, id: String(room * 100 + user) } }
            }
            return { ...req, method: "POST", path: "/event", headers: json, body: JSON.stringify(leaving) }
          }
        }]
      })
    }
  },
  {
    name: "sticky, reserved",
    describe: "POST /v2/room_server for rooms assigned with nobody joined yet (a class about to start)",
    run: (base, sizes) => roomServerFor(base, sizes, () => reservedRoom(pick(sizes.liveRooms)))
  },
  {
    name: "keepalives",
    describe: "PUT /users/:id for users already in their room",
    run: (base, sizes) =>
      numbered(base, sizes, () => {
        const room = liveRoom(pick(sizes.liveRooms))
        const user = pick(sizes.usersPerRoom)
        return { method: "PUT", path: `/users/bench-${room}-${user}`, headers: json, body: userBody(room, user) }
      })
  },
  {
    name: "GET /room/:id",
    describe: "GET /room/:id for a random live room",
    run: (base, sizes) =>
      cannon(base, sizes, { requests: [{ setupRequest: (req) => ({ ...req, method: "GET", path: `/room/${liveRoom(pick(sizes.liveRooms))}` }) }] })
  },
  {
    name: "GET /rooms",
    describe: "GET /rooms with every live room and user",
    run: (base, sizes) => cannon(base, sizes, { requests: [{ method: "GET", path: "/rooms" }] })
  },
  {
    name: "GET /rooms, polled",
    describe: "GET /rooms as a poller sends it: If-None-Match with the ETag it has, gzip accepted",
    run: async (base, sizes) => {
      const first = typeof base === "string" ? base : base[0]!
      const etag = (await fetch(`${first}/rooms`)).headers.get("etag")
      const headers: Record<string, string> = { "accept-encoding": "gzip", ...(etag === null ? {} : { "if-none-match": etag }) }
      return cannon(base, sizes, { requests: [{ method: "GET", path: "/rooms", headers }] })
    }
  },
  // Last: every join adds a session, which the listings above would carry.
  {
    name: "joins",
    describe: "PUT /users/:id of a user new to a reserved room (the first keepalive after POST /v2/room_server: a session stored and counted by its room)",
    run: (base, sizes) =>
      numbered(base, sizes, (n) => {
        const room = reservedRoom(n % sizes.liveRooms)
        return { method: "PUT", path: `/users/bench-join-${n}`, headers: json, body: userBody(room, n) }
      })
  }
]
