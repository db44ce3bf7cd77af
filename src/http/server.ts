// The Node HTTP server under the router: its own limits (header size, time to
// receive a request) and the JSON answers to what it refuses before any route
// sees it — 431 for oversized headers or URL, 408 for a request too slow.
import { NodeHttpServer } from "@effect/platform-node"
import { Context, type Duration, Effect, Layer } from "effect"
import { createServer, type Server } from "node:http"
import type { Duplex } from "node:stream"

/** Node's default limit on the request line plus headers. */
export const maxHeaderBytes = 16 * 1024

// How often Node checks connections against `requestTimeout` (its default is
// 30 s, which would let a slow request live up to twice the timeout).
const timeoutCheckInterval = 1_000

// How long a refused connection keeps reading what the client still sends:
// closing with unread data makes the kernel reset the connection, and the
// client loses the answer (a 100 KB URL used to get a reset instead of 431).
const lingerMillis = 2_000

const refusals: Record<string, { readonly status: string; readonly error: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: "431 Request Header Fields Too Large",
    error: `request headers too large (the URL and headers together may take at most ${maxHeaderBytes / 1024} KiB)`
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: "408 Request Timeout", error: "request timed out: the request did not arrive in time" }
}
const malformed = { status: "400 Bad Request", error: "malformed HTTP request" }

const answered = new WeakSet<Duplex>()

// Replaces Node's default, which writes a bare status line and destroys the
// socket at once.
const refuse = (error: Error & { code?: string }, socket: Duplex & { _httpMessage?: { headersSent?: boolean } }) => {
  // The parser reports every further chunk of a refused request too.
  if (answered.has(socket)) return
  answered.add(socket)
  if (error.code === "ECONNRESET" || !socket.writable || socket._httpMessage?.headersSent === true) {
    socket.destroy()
    return
  }
  const refusal = refusals[error.code ?? ""] ?? malformed
  const body = JSON.stringify({ error: refusal.error })
  socket.end(
    `HTTP/1.1 ${refusal.status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  )
  socket.resume()
  setTimeout(() => socket.destroy(), lingerMillis).unref()
}

/** A server that refuses a request not received within `requestTimeout` ms. */
export const httpServer = (options: { readonly requestTimeout: number }): Server => {
  const server = createServer({
    maxHeaderSize: maxHeaderBytes,
    requestTimeout: options.requestTimeout,
    connectionsCheckingInterval: timeoutCheckInterval
  })
  server.on("clientError", refuse)
  // Once the server stops accepting, a client on a kept-alive connection
  // would otherwise go on sending requests to a stopping process until the
  // grace period runs out: each answer now closes its connection, and the
  // client reconnects to another process.
  server.prependListener("request", (_request, response) => {
    if (!server.listening) response.shouldKeepAlive = false
  })
  return server
}

/** The node server itself, for what shares its port beside the router (the real-time channel). */
export class NodeServer extends Context.Service<NodeServer, Server>()("room-orchestrator/NodeServer") {}

/** The Effect HTTP server on a node server of ours, and that node server. */
export const nodeServerLayer = (
  options: { readonly requestTimeout: number },
  listen: { readonly host: string; readonly port: number; readonly gracefulShutdownTimeout: Duration.Input }
) =>
  Layer.unwrap(Effect.sync(() => {
    const server = httpServer(options)
    return Layer.merge(Layer.succeed(NodeServer, server), NodeHttpServer.layer(() => server, listen))
  }))
