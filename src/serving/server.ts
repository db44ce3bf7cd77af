// The Node HTTP server under the router: its own limits (header size, time to
// receive a request) and the JSON answers to what it refuses before any route
// sees it — 431 for oversized headers or URL, 408 for a request too slow.
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, type Duration, Effect, Layer, Schema } from "effect"
import { readFileSync } from "node:fs"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import { CurrentMetrics } from "../metrics/families.ts"
import type { Duplex } from "node:stream"
import { StartingUp } from "../startingUp.ts"

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

/** What the server bounds: how long a request may take to arrive, how long a connection may idle, how many may be open. */
export interface ConnectionLimits {
  readonly requestTimeout: number
  /** Headers must arrive within this; a connection that sends nothing this long after it opens is closed. */
  readonly headersTimeout: number
  readonly keepAliveTimeout: number
  /** Open connections; a new one beyond is closed at once. */
  readonly maxConnections: number | undefined
}

/** What the server refused: a connection over the cap, or one that never sent a byte. */
export interface ConnectionRefusals {
  readonly overCap: () => void
  readonly silent: () => void
}

/**
 * The open-files limit of this process less room for its own files and
 * database connections: the default cap on open connections, so that a
 * flood of connections is refused before the process runs out of them.
 */
export const defaultMaxConnections = (): number | undefined => {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"))
    const soft = Number(line?.split(/\s{2,}/)[1])
    return Number.isSafeInteger(soft) && soft > 0 ? Math.max(64, soft - 512) : undefined
  } catch {
    return undefined
  }
}

/** A server that bounds its connections (see ConnectionLimits) and answers what it refuses in JSON. */
export const httpServer = (limits: ConnectionLimits, refusals: ConnectionRefusals): Server => {
  const server = createServer({
    maxHeaderSize: maxHeaderBytes,
    requestTimeout: limits.requestTimeout,
    // Node wants the headers' deadline within the whole request's
    headersTimeout: Math.min(limits.headersTimeout, limits.requestTimeout),
    keepAliveTimeout: limits.keepAliveTimeout,
    connectionsCheckingInterval: timeoutCheckInterval
  })
  const cap = limits.maxConnections ?? defaultMaxConnections()
  if (cap !== undefined) server.maxConnections = cap
  server.on("drop", refusals.overCap)
  // Node times out a request's headers only once a first byte arrived: a
  // connection that never sends one would stay open for good.
  server.on("connection", (socket: Socket) => {
    const silent = setTimeout(() => {
      refusals.silent()
      socket.destroy()
    }, limits.headersTimeout)
    silent.unref()
    socket.once("data", () => clearTimeout(silent))
    socket.once("close", () => clearTimeout(silent))
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

/** The address cannot be listened on (in use, not this machine's, not permitted). */
export class ListenFailed extends Schema.TaggedError<ListenFailed>()("ListenFailed", { message: Schema.String }) {}

const listenProblem = (error: Error & { code?: string }, address: string) => {
  switch (error.code) {
    case "EADDRINUSE":
      return `Cannot listen on ${address}: the address is already in use (another process listens there; set LISTEN_ADDRESS)`
    case "EADDRNOTAVAIL":
      return `Cannot listen on ${address}: the host is not an address of this machine (set LISTEN_ADDRESS)`
    case "EACCES":
      return `Cannot listen on ${address}: permission denied (ports below 1024 need privileges; set LISTEN_ADDRESS)`
    default:
      return `Cannot listen on ${address}: ${error.message}`
  }
}

const healthPaths = new Set(["/health", "/health_check"])

/**
 * The node server, listening from the start of start-up (a port in use is
 * one clear line at once, and a load balancer sees the process alive while
 * it waits for its database): until the routes serve, /health answers 200
 * and everything else a JSON 503 saying what start-up waits for. The
 * routes' own listener replaces that answer the moment it is installed.
 */
export const listeningServer = (limits: ConnectionLimits, listen: { readonly host: string; readonly port: number }) =>
  Layer.effectContext(Effect.gen(function*() {
    const metrics = yield* CurrentMetrics
    const server = httpServer(limits, {
      overCap: () => metrics.connectionsRefused.labels("over_cap").inc(),
      silent: () => metrics.connectionsRefused.labels("silent").inc()
    })
    let waiting = "starting"
    const early = (request: IncomingMessage, response: ServerResponse) => {
      const path = (request.url ?? "/").split("?")[0]!
      const [status, body] = healthPaths.has(path) ? [200, { status: "ok" }] : [503, { error: `starting: ${waiting}` }]
      // the header tells a client (and the tests) this is the answer of a process still starting
      response.writeHead(status, { "content-type": "application/json", "x-starting": "true", ...(status === 503 ? { "retry-after": "2" } : {}) })
      response.end(JSON.stringify(body))
    }
    server.on("request", early)
    server.on("newListener", (event, listener) => {
      if (event === "request" && listener !== early) server.off("request", early)
    })
    const address = `${listen.host}:${listen.port}`
    yield* Effect.acquireRelease(
      Effect.callback<void, ListenFailed>((resume) => {
        const failed = (error: Error) => resume(Effect.fail(new ListenFailed({ message: listenProblem(error, address) })))
        server.once("error", failed)
        server.listen(listen.port, listen.host, () => {
          server.off("error", failed)
          resume(Effect.void)
        })
      }),
      () => Effect.callback<void>((resume) => (server.listening ? void server.close(() => resume(Effect.void)) : resume(Effect.void)))
    )
    // The HTTP layer listens on the server it is given: this one listens already.
    const listenAgain = server.listen.bind(server)
    server.listen = ((...args: Array<unknown>) => {
      if (!server.listening) return listenAgain(...(args as Parameters<Server["listen"]>))
      const done = args.find((a) => typeof a === "function") as (() => void) | undefined
      if (done !== undefined) queueMicrotask(done)
      return server
    }) as Server["listen"]
    return Context.make(NodeServer, server).pipe(
      Context.add(StartingUp, { waitingFor: (reason) => Effect.sync(() => void (waiting = reason)) })
    )
  }))

/** The Effect HTTP server on the node server that listens already. */
export const nodeServerLayer = (listen: { readonly host: string; readonly port: number; readonly gracefulShutdownTimeout: Duration.Input }) =>
  Layer.unwrap(Effect.map(NodeServer, (server: Server) => NodeHttpServer.layer(() => server, listen)))
