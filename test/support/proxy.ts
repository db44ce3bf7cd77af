// A TCP relay in front of a database, so a test can make the database
// "disappear" under a running service.
import { Effect } from "effect"
import { createConnection, createServer, type Socket } from "node:net"

export interface Relay {
  readonly port: number
  /** Refuses new connections and drops the open ones. */
  readonly cut: Effect.Effect<void>
  /** Listens again on the same port. */
  readonly restore: Effect.Effect<void>
}

export const tcpRelay = (target: { host: string; port: number }) =>
  Effect.acquireRelease(
    Effect.callback<Relay & { close: () => void }>((resume) => {
      const sockets = new Set<Socket>()
      const track = (s: Socket) => {
        sockets.add(s)
        s.on("close", () => sockets.delete(s))
        s.on("error", () => s.destroy())
      }
      const server = createServer((client) => {
        const upstream = createConnection(target)
        track(client)
        track(upstream)
        client.pipe(upstream).pipe(client)
        client.on("close", () => upstream.destroy())
        upstream.on("close", () => client.destroy())
      })
      const close = () => {
        server.close()
        for (const s of sockets) s.destroy()
      }
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address ? address.port : 0
        const restore = Effect.callback<void>((done) => {
          server.listen(port, "127.0.0.1", () => done(Effect.void))
        })
        resume(Effect.succeed({ port, cut: Effect.sync(close), restore, close }))
      })
    }),
    (relay) => Effect.sync(relay.close)
  )

/** A server that accepts connections and never answers: a database that hangs. */
export const silentServer = Effect.acquireRelease(
  Effect.callback<{ port: number; close: () => void }>((resume) => {
    const sockets = new Set<Socket>()
    const server = createServer((s) => {
      sockets.add(s)
      s.on("error", () => {})
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resume(Effect.succeed({
        port: typeof address === "object" && address ? address.port : 0,
        close: () => {
          server.close()
          for (const s of sockets) s.destroy()
        }
      }))
    })
  }),
  (s) => Effect.sync(s.close)
)
