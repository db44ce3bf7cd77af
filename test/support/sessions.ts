// Sessions for tests that drive the rooms runtime directly: a join is a real
// session row plus the room told, as PUT /users does; a leave closes the row
// and tells the room. Rows written without telling the room stand for a
// change the room missed.
import { Effect } from "effect"
import { SessionStore } from "../../src/db/sessionStore.ts"
import { Rooms } from "../../src/rooms/roomClient.ts"
import { query } from "./rooms.ts"

/** A stable Janus session number per user name. */
const sessionNumber = (user: string) => [...user].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000_007, 7)

/** Writes a live session row for `user` in `room` on `gateway`; answers its id. */
export const sessionRow = (room: string, user: string, gateway: string) =>
  Effect.gen(function*() {
    const store = yield* SessionStore
    const outcome = yield* store.upsert({
      userId: user, room, gateway, gatewaySession: sessionNumber(user), gatewayHandle: null, gatewayFeed: `${user}-feed`,
      gatewayTextroomHandle: null, display: user, email: null, username: null, groupName: null, role: null, clientName: null,
      camera: false, mic: false, screen: false, question: false, selfTest: false, soundTest: false, country: null,
      userAgent: null, ip: null, extra: null, clientTimestamp: null
    }).pipe(Effect.orDie)
    if (outcome._tag !== "Joined" && outcome._tag !== "Updated") return yield* Effect.die(`cannot write a session: ${outcome._tag}`)
    return String(outcome.place.session)
  })

/** `user` joins `room` on `gateway`: the row, then the room told; answers the session id and the room's status. */
export const join = (room: string, user: string, gateway: string) =>
  Effect.gen(function*() {
    const session = yield* sessionRow(room, user, gateway)
    const status = yield* (yield* Rooms).changeSession(room, "joined", session, gateway)
    return { session, status }
  })

/** Closes `user`'s live sessions in `room` without telling the room; answers their ids. */
export const closeRows = (room: string, user: string) =>
  query<{ id: string; gateway: string }>(
    `UPDATE sessions s SET removed_at = now() FROM users u, rooms r, gateways g
     WHERE s.user_id = u.id AND s.room_id = r.id AND g.id = s.gateway_id AND u.account_id = $1 AND r.room = $2 AND s.removed_at IS NULL
     RETURNING s.id::text AS id, g.name AS gateway`,
    user,
    room
  )

/** `user` leaves `room`: the row closed, then the room told; answers the room's status. */
export const leave = (room: string, user: string) =>
  Effect.gen(function*() {
    const rooms = yield* Rooms
    let status = yield* rooms.status(room)
    for (const row of yield* closeRows(room, user)) status = yield* rooms.changeSession(room, "left", row.id, row.gateway)
    return status
  })
