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

export const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "sticky",
    describe: "POST /v2/room_server for rooms already assigned and in use",
    run: (base, sizes) =>
      cannon(base, sizes, {
        requests: [{
          method: "POST",
          path: "/v2/room_server",
          headers: json,
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ room: liveRoom(pick(sizes.liveRooms)), geo: { country_code: "IL" } }) })
        }]
      })
  },
  {
    name: "new rooms",
    describe: "POST /v2/room_server, each for a room never requested (balancer + writes)",
    run: (base, sizes) => {
      let next = 0
      return cannon(base, sizes, {
        amount: sizes.newRooms,
        requests: [{
          method: "POST",
          path: "/v2/room_server",
          headers: json,
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ room: newRoom(sizes, next++) }) })
        }]
      })
    }
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
    name: "GET /rooms",
    describe: "GET /rooms with every live room and user",
    run: (base, sizes) => cannon(base, sizes, { requests: [{ method: "GET", path: "/rooms" }] })
  }
]
