// The real-time channel (seed 003): Socket.IO on the service's own port,
// beside the HTTP routes. Each event's payload is decoded with a Schema and
// acknowledged with its answer or `{error}`; a connection's events run one
// at a time, so a disconnect always follows the join it interrupts. Open
// connections keep their sessions alive; a disconnect closes its session.
import { Duration, Effect, FiberSet, Layer, Schedule, Schema, Semaphore } from "effect"
import type { Server as NodeHttpServer } from "node:http"
import { Server, type Socket } from "socket.io"
import { AppConfig } from "../config.ts"
import { NodeServer } from "../serving/server.ts"
import { CurrentMetrics } from "../metrics/families.ts"
import { installAdapter } from "./adapter.ts"
import { CallerIdentity } from "./callerIdentity.ts"
import { type Membership, Members } from "./members.ts"
import {
  ChannelRefusal,
  CreateRoomMessage,
  decodeMessage,
  GetUsersMessage,
  JoinRoomMessage,
  LeaveRoomMessage,
  Token,
  UpdateUserMessage,
  UserIdText
} from "./socketEvents.ts"
import type { MemberView } from "../meetings/views.ts"

/** Where Socket.IO answers (its default); every other path is the router's. */
export const channelPath = "/socket.io"

/** A real-time payload is small; anything larger is refused like an oversized HTTP body. */
const maxMessageBytes = 64 * 1024

/** How long a stopping service gives its connections' sessions to close. */
const shutdownGrace = Duration.seconds(5)

const roomChannel = (room: string) => `room:${room}`

/** What the handshake may carry besides the token (other fields are the client's own). */
const HandshakeAuth = Schema.Struct({ token: Schema.optional(Token), userId: Schema.optional(UserIdText) })
const decodeHandshake = decodeMessage("handshake auth", Schema.StructWithRest(HandshakeAuth, [Schema.Record(Schema.String, Schema.Unknown)]))

interface Connection {
  readonly socket: Socket
  /** Events of one connection run one at a time. */
  readonly lock: Semaphore.Semaphore
  readonly token: string | undefined
  readonly userId: string | undefined
  /** A token checked out, at the handshake or by a join. */
  authenticated: boolean
  member: { readonly membership: Membership; view: MemberView } | undefined
  /** Events it may still send now (refilled at REALTIME_EVENTS_PER_SECOND, up to twice that). */
  allowance: number
  allowanceAt: number
  /** Events received and not yet answered. */
  waiting: number
}

const rateLimited = { error: "rate limited" }

const refuse = (message: string) => Effect.fail(new ChannelRefusal({ message }))

/**
 * Effect's server answers every upgrade itself: Socket.IO's WebSocket
 * upgrades must not reach it (the router keeps every other path).
 */
const leaveUpgradesToChannel = (server: NodeHttpServer) => {
  const routerListeners = server.listeners("upgrade") as Array<(...args: Array<unknown>) => void>
  server.removeAllListeners("upgrade")
  server.on("upgrade", (request, socket, head) => {
    if (request.url?.startsWith(`${channelPath}/`)) return
    for (const listener of routerListeners) listener.call(server, request, socket, head)
  })
}

/** The channel on the service's node server; attach it once the routes serve (STACK.md). */
export const RealtimeChannel = Layer.effectDiscard(Effect.gen(function*() {
  const config = yield* AppConfig
  const metrics = yield* CurrentMetrics
  const server = yield* NodeServer
  const members = yield* Members
  const callers = yield* CallerIdentity
  // Handlers run in fibers of this set, interrupted when the service stops.
  const run = yield* FiberSet.makeRuntime()
  const connections = new Map<string, Connection>()

  const io = new Server({
    path: channelPath,
    serveClient: true,
    maxHttpBufferSize: maxMessageBytes,
    // Upgrades on other paths belong to the router: Socket.IO must not close them.
    destroyUpgrade: false,
    cors: { origin: config.corsOrigins.includes("*") ? "*" : [...config.corsOrigins] }
  })
  const adapter = yield* installAdapter(io)

  const emitToOthers = (c: Connection, room: string, event: string, body: unknown) =>
    Effect.sync(() => void c.socket.to(roomChannel(room)).emit(event, body))

  const needsToken = (c: Connection) =>
    callers.required && !c.authenticated
      ? refuse("token: is required (connect with auth.token, or join a room first)")
      : Effect.void

  // Leaving the channel's room comes first: if closing the session fails,
  // the cleaner closes it once this connection stops keeping it alive.
  const leaveCurrent = (c: Connection) =>
    Effect.suspend(() => {
      const member = c.member
      if (member === undefined) return Effect.void
      c.member = undefined
      const room = member.membership.place.room
      c.socket.leave(roomChannel(room))
      return emitToOthers(c, room, "userLeft", { roomId: room, user: member.view }).pipe(
        Effect.andThen(members.leave(member.membership))
      )
    })

  const createRoom = (c: Connection, payload: unknown) =>
    Effect.gen(function*() {
      const message = yield* decodeMessage("createRoom", CreateRoomMessage)(payload)
      yield* needsToken(c)
      const prepared = yield* members.prepare(message.roomId)
      return { ok: true, roomId: prepared.room.id, room: prepared.room, janus: prepared.janus }
    })

  const joinRoom = (c: Connection, payload: unknown) =>
    Effect.gen(function*() {
      const message = yield* decodeMessage("joinRoom", JoinRoomMessage)(payload)
      const userId = yield* callers.identify(message.token ?? c.token, message.userId ?? c.userId)
      if (c.member !== undefined) {
        return yield* refuse(`this connection is already in room ${c.member.membership.place.room}: send leaveRoom first`)
      }
      const joined = yield* members.join(userId, message)
      c.authenticated = true
      c.member = { membership: joined.membership, view: joined.user }
      c.socket.join(roomChannel(joined.room.id))
      yield* emitToOthers(c, joined.room.id, "userJoined", { roomId: joined.room.id, user: joined.user })
      return { room: joined.room, janus: joined.janus, users: joined.users, user: joined.user }
    })

  const updateUser = (c: Connection, payload: unknown) =>
    Effect.gen(function*() {
      const message = yield* decodeMessage("updateUser", UpdateUserMessage)(payload)
      const member = c.member
      if (member === undefined) return yield* refuse("not in a room: send joinRoom first")
      const view = yield* members.update(member.membership, {
        mic: message.isMicActive,
        camera: message.isCamActive,
        screen: message.isShareScreen
      })
      member.view = view
      yield* emitToOthers(c, view.roomId, "userUpdated", { roomId: view.roomId, user: view })
      return { ok: true, user: view }
    })

  const getUsersInRoom = (c: Connection, payload: unknown) =>
    Effect.gen(function*() {
      const message = yield* decodeMessage("getUsersInRoom", GetUsersMessage)(payload)
      yield* needsToken(c)
      return { users: yield* members.users(message.roomId) }
    })

  const leaveRoom = (c: Connection, payload: unknown) =>
    Effect.gen(function*() {
      const message = yield* decodeMessage("leaveRoom", LeaveRoomMessage)(payload)
      const member = c.member
      if (member === undefined) return yield* refuse("not in a room")
      const room = member.membership.place.room
      if (message?.roomId !== undefined && message.roomId !== room) return yield* refuse(`roomId: this connection is in room ${room}`)
      yield* leaveCurrent(c)
      return { ok: true, roomId: room }
    })

  const events: Record<string, (c: Connection, payload: unknown) => Effect.Effect<unknown, ChannelRefusal>> = {
    createRoom,
    joinRoom,
    updateUser,
    getUsersInRoom,
    leaveRoom
  }

  const burst = 2 * config.realtimeEventsPerSecond
  // One connection cannot take more than its share: events beyond the rate,
  // or beyond the queue of those waiting their turn, are refused at once.
  const admit = (c: Connection): "rate" | "queue" | undefined => {
    const now = performance.now()
    c.allowance = Math.min(burst, c.allowance + ((now - c.allowanceAt) / 1000) * config.realtimeEventsPerSecond)
    c.allowanceAt = now
    if (c.waiting >= config.realtimeQueue) return "queue"
    if (c.allowance < 1) return "rate"
    c.allowance -= 1
    return undefined
  }

  // Every event is acknowledged: its answer, or `{error}`; a fault is logged and answered too.
  const handle = (c: Connection, event: string, body: (c: Connection, payload: unknown) => Effect.Effect<unknown, ChannelRefusal>) =>
    c.socket.on(event, (...args: Array<unknown>) => {
      const ack = typeof args.at(-1) === "function" ? (args.pop() as (reply: unknown) => void) : undefined
      const refused = admit(c)
      if (refused !== undefined) {
        metrics.realtimeRefused.labels(refused).inc()
        return ack?.(rateLimited)
      }
      c.waiting++
      run(c.lock.withPermits(1)(body(c, args[0])).pipe(
        Effect.ensuring(Effect.sync(() => void c.waiting--)),
        Effect.catchTag("ChannelRefusal", (e) => Effect.succeed({ error: e.message })),
        Effect.catchDefect((defect) =>
          Effect.logError("Real-time event failed").pipe(
            Effect.annotateLogs({ event, cause: String(defect) }),
            Effect.as({ error: "internal error" })
          )),
        Effect.flatMap((reply) => Effect.sync(() => ack?.(reply)))
      ))
    })

  // A token in the handshake is checked at once: a bad one refuses the connection.
  io.use((socket, next) => {
    run(decodeHandshake(socket.handshake.auth ?? {}).pipe(
      Effect.tap((auth) => (auth.token === undefined ? Effect.void : callers.identify(auth.token, auth.userId))),
      Effect.match({
        onFailure: (e) => next(Object.assign(new Error(e.message), { data: { error: e.message } })),
        onSuccess: (auth) => {
          socket.data = { token: auth.token, userId: auth.userId }
          next()
        }
      })
    ))
  })

  io.on("connection", (socket) => {
    const data = socket.data as { token?: string | undefined; userId?: string | undefined }
    const c: Connection = {
      socket,
      lock: Semaphore.makeUnsafe(1),
      token: data.token,
      userId: data.userId,
      authenticated: data.token !== undefined,
      member: undefined,
      allowance: burst,
      allowanceAt: performance.now(),
      waiting: 0
    }
    connections.set(socket.id, c)
    // A connection that shows no token (at the handshake or in a join) in time is closed.
    if (!c.authenticated) {
      const unauthenticated = setTimeout(() => {
        if (c.authenticated || c.member !== undefined || !socket.connected) return
        metrics.realtimeRefused.labels("unauthenticated").inc()
        // the client sees the server close it ("io server disconnect")
        socket.disconnect(true)
      }, config.realtimeAuthTimeout)
      unauthenticated.unref()
      socket.once("disconnect", () => clearTimeout(unauthenticated))
    }
    for (const [event, body] of Object.entries(events)) handle(c, event, body)
    socket.onAny((event: string, ...args: Array<unknown>) => {
      const ack = args.at(-1)
      if (!Object.hasOwn(events, event) && typeof ack === "function") ack({ error: `unknown event ${event}: send one of ${Object.keys(events).join(", ")}` })
    })
    socket.on("disconnect", () => {
      run(c.lock.withPermits(1)(leaveCurrent(c)).pipe(
        Effect.catchTag("ChannelRefusal", (e) =>
          Effect.logWarning("Session of a closed connection not closed; the cleaner will close it").pipe(
            Effect.annotateLogs({ reason: e.message })
          )),
        Effect.ensuring(Effect.sync(() => connections.delete(socket.id)))
      ))
    })
  })

  // Open connections keep their sessions alive well within DEAD_SESSION_PERIOD;
  // a session closed meanwhile (swept while the database was away) is left.
  const keepAlive = Effect.gen(function*() {
    const open = [...connections.values()].filter((c) => c.member !== undefined)
    if (open.length === 0) return
    const touched = new Set(open.map((c) => c.member!.membership.place.session))
    const alive = yield* members.touch([...touched])
    for (const c of open) {
      yield* c.lock.withPermits(1)(Effect.suspend(() => {
        const member = c.member
        // A connection that joined again meanwhile holds a session this round did not touch.
        const session = member?.membership.place.session
        if (member === undefined || session === undefined || !touched.has(session) || alive.has(session)) return Effect.void
        c.member = undefined
        const room = member.membership.place.room
        // Everyone in the room hears it, the connection itself included.
        return Effect.sync(() => {
          io.to(roomChannel(room)).emit("userLeft", { roomId: room, user: member.view })
          c.socket.leave(roomChannel(room))
        })
      }))
    }
  })
  yield* keepAlive.pipe(
    Effect.catchTag("ChannelRefusal", (e) => Effect.logWarning("Keeping real-time sessions alive failed").pipe(Effect.annotateLogs({ reason: e.message }))),
    Effect.repeat(Schedule.spaced(Duration.millis(Math.max(250, Math.floor(config.deadSessionPeriod / 3))))),
    Effect.forkScoped
  )

  // Stopping: every connection's session is closed (its room drains), then
  // the connections; the HTTP server's own shutdown follows.
  yield* Effect.addFinalizer(() =>
    Effect.forEach(connections.values(), (c) => c.lock.withPermits(1)(leaveCurrent(c)).pipe(Effect.ignore), { concurrency: 16, discard: true }).pipe(
      Effect.timeoutOrElse({ duration: shutdownGrace, orElse: () => Effect.void }),
      Effect.andThen(Effect.sync(() => {
        io.disconnectSockets(true)
        io.engine?.close()
      }))
    )
  )

  leaveUpgradesToChannel(server)
  io.attach(server)
  yield* Effect.logInfo("Real-time channel ready").pipe(Effect.annotateLogs({ path: `${channelPath}/`, adapter }))
}))
