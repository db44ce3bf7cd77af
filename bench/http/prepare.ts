// The state every benchmark starts from: the rooms the scenarios use,
// created through the admin API, the sticky ones assigned and filled with users.
import { burstRoom } from "./burst.ts"
import { firstRoom, gatewayOf, liveRoom, mixedNewRoom, newRoom, reservedRoom, type Sizes, userBody } from "./scenarios.ts"

/** Runs `f` over `items`, `width` at a time. */
export const pool = async <A>(items: ReadonlyArray<A>, width: number, f: (a: A) => Promise<void>) => {
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await f(items[next++]!)
  }))
}

export const send = async (base: string, method: string, path: string, body?: string) => {
  const response = await fetch(base + path, {
    method,
    ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } })
  })
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  await response.arrayBuffer()
}

export const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i))

/** Creates every room the scenarios use, assigns the sticky ones and fills the live ones with users. */
export const prepare = async (base: string, sizes: Sizes, burstRooms = 0) => {
  const rooms = [
    ...range(burstRooms, burstRoom),
    ...range(sizes.liveRooms, liveRoom),
    ...range(sizes.liveRooms, reservedRoom),
    ...range(sizes.newRooms, (i) => newRoom(sizes, i)),
    ...range(sizes.newRooms, (i) => mixedNewRoom(sizes, i))
  ]
  await pool(rooms, 16, (room) =>
    send(base, "POST", "/admin/rooms", JSON.stringify({ room, name: `Bench room ${room - firstRoom}`, default_gateway: gatewayOf(room) })))
  await pool([...range(sizes.liveRooms, liveRoom), ...range(sizes.liveRooms, reservedRoom)], 16, (room) =>
    send(base, "POST", "/v2/room_server", JSON.stringify({ room })))
  const users = range(sizes.liveRooms * sizes.usersPerRoom, (i) => i)
  await pool(users, 16, (i) => {
    const room = liveRoom(Math.floor(i / sizes.usersPerRoom))
    const user = i % sizes.usersPerRoom
    return send(base, "PUT", `/users/bench-${room}-${user}`, userBody(room, user))
  })
}

