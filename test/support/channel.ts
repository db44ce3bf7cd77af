// Real-time clients for tests: socket.io-client connected to the service in
// process, acknowledgements as Effects, and broadcasts waited for by name.
import { Duration, Effect, Schedule } from "effect"
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client"

const answerTimeout = 10_000

/** A connected client, disconnected with the scope; fails with the server's refusal when the handshake is refused. */
export const connect = (base: string, options: Partial<ManagerOptions & SocketOptions> = {}) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = io(base, { reconnection: false, forceNew: true, transports: ["websocket"], ...options })
          socket.once("connect", () => resolve(socket))
          socket.once("connect_error", (error) => {
            socket.close()
            reject(error)
          })
        }),
      catch: (e) => e as Error & { data?: { error?: string } }
    }),
    (socket) => Effect.sync(() => socket.close())
  )

/** Emits `event` and answers its acknowledgement. */
export const ask = (socket: Socket, event: string, ...args: Array<unknown>): Effect.Effect<any> =>
  Effect.promise(() => socket.timeout(answerTimeout).emitWithAck(event, ...args))

/**
 * Starts listening for the next `event` now; the returned effect waits for it
 * (failing after a while), so the listener is in place before the action.
 */
export const nextEvent = (socket: Socket, event: string) =>
  Effect.sync(() => {
    const received = new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${event} within ${answerTimeout} ms`)), answerTimeout)
      socket.once(event, (payload: unknown) => {
        clearTimeout(timer)
        resolve(payload)
      })
    })
    return Effect.promise(() => received)
  })

/** Everything `socket` receives of `event`, in order. */
export const collect = (socket: Socket, event: string) => {
  const seen: Array<any> = []
  socket.on(event, (payload: unknown) => void seen.push(payload))
  return seen
}

/** Retries `check` every 100 ms for up to `times` tries. */
export const eventually = <A, E, R>(check: Effect.Effect<A, E, R>, times = 80) =>
  Effect.retry(check, { schedule: Schedule.spaced(Duration.millis(100)), times })
