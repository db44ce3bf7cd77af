// HTTP below the endpoints: a wrong method, oversized headers, a request that
// arrives too slowly, a malformed request. Raw sockets where fetch cannot
// produce the input.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { connect } from "node:net"
import { backend, freshDatabaseLayer } from "../support/database.ts"
import { call, collectLogs, runService } from "../support/service.ts"

interface RawReply {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
  /** How the connection ended: `end` (closed cleanly by the server) or the socket error's code. */
  readonly ending: string
  readonly elapsedMs: number
}

/**
 * Sends `chunks` on a fresh connection (`pauseMs` between them; an empty
 * chunk just waits), then reads until the server closes it.
 */
const rawRequest = (base: string, chunks: ReadonlyArray<string>, pauseMs = 0) =>
  Effect.promise(() =>
    new Promise<RawReply>((resolve) => {
      const url = new URL(base)
      const socket = connect(Number(url.port), url.hostname)
      const begun = Date.now()
      let received = ""
      let ending = "end"
      socket.setEncoding("utf8")
      socket.on("data", (d) => (received += d))
      socket.on("error", (e: NodeJS.ErrnoException) => (ending = e.code ?? e.message))
      socket.on("close", () => {
        const [head = "", body = ""] = received.split("\r\n\r\n", 2)
        const [statusLine = "", ...lines] = head.split("\r\n")
        const headers = Object.fromEntries(lines.map((l) => {
          const at = l.indexOf(":")
          return [l.slice(0, at).toLowerCase(), l.slice(at + 1).trim()]
        }))
        resolve({ status: Number(statusLine.split(" ")[1] ?? 0), headers, body, ending, elapsedMs: Date.now() - begun })
      })
      socket.on("connect", async () => {
        for (const chunk of chunks) {
          if (chunk !== "" && !socket.destroyed) socket.write(chunk)
          if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs))
        }
      })
    })
  )

describe(`HTTP protocol errors (${backend})`, () => {
  it.live("a wrong method on a known path is a 405 naming the methods it takes, in Allow too", () =>
    Effect.gen(function*() {
      const base = yield* runService(freshDatabaseLayer)
      const cases: Array<[string, string, string]> = [
        ["POST", "/health", "GET, HEAD"],
        ["DELETE", "/admin/gateways", "GET, HEAD, POST"],
        ["PUT", "/admin/rooms", "GET, HEAD, POST"],
        ["POST", "/admin/rooms/2171", "GET, HEAD, PATCH, DELETE"],
        ["GET", "/users/u1", "PUT"],
        ["POST", "/metrics", "GET, HEAD"],
        ["DELETE", "/openapi.json", "GET, HEAD"]
      ]
      for (const [method, path, allow] of cases) {
        const response = yield* Effect.promise(() => fetch(base + path, { method }))
        assert.strictEqual(response.status, 405, `${method} ${path}`)
        assert.strictEqual(response.headers.get("allow"), allow, `${method} ${path}`)
        assert.deepStrictEqual(yield* Effect.promise(() => response.json()), {
          error: `method not allowed: ${method} ${path} takes ${allow}`
        })
      }
      // Unknown paths stay 404; HEAD works wherever GET does.
      assert.deepStrictEqual(yield* call("POST", `${base}/nowhere`), { status: 404, body: { error: "no such endpoint: POST /nowhere" } })
      assert.strictEqual((yield* Effect.promise(() => fetch(`${base}/health`, { method: "HEAD" }))).status, 200)
    }).pipe(Effect.scoped))

  it.live("a 100 KB URL or an oversized header is a 431 with a JSON body, not a reset", () =>
    Effect.gen(function*() {
      const base = yield* runService(freshDatabaseLayer)
      const longUrl = yield* rawRequest(base, [`GET /rooms/${"9".repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`])
      assert.strictEqual(longUrl.status, 431)
      assert.strictEqual(longUrl.ending, "end", "the server closes cleanly after answering")
      assert.deepStrictEqual(JSON.parse(longUrl.body), {
        error: "request headers too large (the URL and headers together may take at most 16 KiB)"
      })

      const bigHeader = yield* rawRequest(base, [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`])
      assert.strictEqual(bigHeader.status, 431)
      assert.strictEqual(bigHeader.headers["content-type"], "application/json")

      // The service goes on serving.
      assert.strictEqual((yield* call("GET", `${base}/health`)).status, 200)
    }).pipe(Effect.scoped))

  it.live("a request whose body arrives too slowly is answered 408 after REQUEST_TIMEOUT", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const base = yield* runService(freshDatabaseLayer, { REQUEST_TIMEOUT: "1s" }, logs.logger)
      const head = "PUT /users/u1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
      // Half the body, then silence well past the timeout.
      const slow = yield* rawRequest(base, [head, "{\"room\": 2171, ", "", "", "", "", ""], 1_000)
      assert.strictEqual(slow.status, 408)
      assert.deepStrictEqual(JSON.parse(slow.body), { error: "request timed out: the request did not arrive in time" })
      assert.isAtLeast(slow.elapsedMs, 1_000)
      assert.isBelow(slow.elapsedMs, 4_500)

      // Headers that never finish get the same answer.
      const stalled = yield* rawRequest(base, ["GET /health HTTP/1.1\r\nHost: x\r\n", "", "", "", "", ""], 1_000)
      assert.strictEqual(stalled.status, 408)
      assert.isBelow(stalled.elapsedMs, 4_500)

      assert.strictEqual((yield* call("GET", `${base}/health`)).status, 200)
      // The handler left waiting for the body gives up quietly: a slow client is not the service's error.
      assert.deepStrictEqual(logs.lines.filter((l) => /level=(ERROR|WARN)/.test(l)), [])
    }).pipe(Effect.scoped))

  it.live("a malformed request is a 400 with a JSON body", () =>
    Effect.gen(function*() {
      const base = yield* runService(freshDatabaseLayer)
      const reply = yield* rawRequest(base, ["NOT HTTP AT ALL\r\n\r\n"])
      assert.strictEqual(reply.status, 400)
      assert.deepStrictEqual(JSON.parse(reply.body), { error: "malformed HTTP request" })
    }).pipe(Effect.scoped))
})
