// A database outage under load, on a private Postgres the test stops and
// starts (never the machine's shared one): clients get only 200s and 503s
// (with Retry-After and a clear body), operators one log line a second at
// most and no stack trace, and everything answers again soon after the
// database is back.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Ref } from "effect"
import { postgresLayer } from "../../src/db/database.ts"
import { postgresBinDir, privatePostgres } from "../support/postgresServer.ts"
import { prepared } from "../support/rooms.ts"
import type { Database } from "../../src/db/database.ts"
import { collectLogs, runService } from "../support/service.ts"

interface Answer {
  readonly what: string
  readonly status: number
  readonly body: string
  readonly retryAfter: string | null
  readonly at: number
}

const send = (base: string, what: string, method: string, path: string, body?: unknown) =>
  Effect.promise(async (): Promise<Answer> => {
    const response = await fetch(base + path, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    }).catch((e: Error) => ({ status: 0, text: () => Promise.resolve(e.message), headers: new Headers() }))
    return { what, status: response.status, body: await response.text(), retryAfter: response.headers.get("retry-after"), at: Date.now() }
  })

describe("a database outage under load (private Postgres)", () => {
  it.live.skipIf(postgresBinDir === undefined)("only 200s and 503s while it is down, one log line a second, recovery within a second or two", () =>
    Effect.gen(function*() {
      const pg = yield* privatePostgres
      const logs = collectLogs()
      const base = yield* runService(prepared(postgresLayer(pg.url)) as unknown as typeof Database, {
        DATABASE_URL: pg.url, SCALE: "true", CLEAN_SESSIONS_INTERVAL: "1s", DEAD_SESSION_PERIOD: "1h", LOG_LEVEL: "info"
      }, logs.logger)
      // rooms reserved before the outage (their users come and go below, in other rooms)
      for (const room of [2180, 2181, 2182]) {
        const placed = yield* send(base, "place", "POST", "/v2/room_server", { room })
        assert.strictEqual(placed.status, 200, placed.body)
      }
      const answers = yield* Ref.make<ReadonlyArray<Answer>>([])
      let n = 0
      const requests = [
        () => send(base, "sticky", "POST", "/v2/room_server", { room: 2180 + (n++ % 3) }),
        () => send(base, "new room", "POST", "/v2/room_server", { room: 2174 + (n++ % 6) }),
        () => send(base, "keepalive", "PUT", `/users/u${n % 40}`, { room: 2171 + (n % 3), janus: "gxy1", session: n++ % 40, rfid: `f${n % 40}` }),
        () => send(base, "live rooms", "GET", "/rooms"),
        () => send(base, "one room", "GET", "/room/2171"),
        () => send(base, "groups", "GET", "/groups?with_num_users=true"),
        () => send(base, "admin", "GET", "/admin/gateways"),
        () => send(base, "event", "POST", "/event", { type: 64, event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", id: `f${n++ % 40}` } } })
      ]
      let running = true
      const load = yield* Effect.forEach(requests, (request) =>
        Effect.gen(function*() {
          while (running) {
            const answer = yield* request()
            yield* Ref.update(answers, (a) => [...a, answer])
            yield* Effect.sleep(Duration.millis(20))
          }
        }), { concurrency: "unbounded", discard: true }).pipe(Effect.forkChild)

      yield* Effect.sleep(Duration.seconds(1))
      const down = Date.now()
      yield* pg.stop
      yield* Effect.sleep(Duration.seconds(4))
      yield* pg.start
      const back = Date.now()
      // every kind of request answers 200 again soon after the database is back
      const recovered = new Map<string, number>()
      while (recovered.size < requests.length && Date.now() - back < 10_000) {
        for (const a of yield* Ref.get(answers)) {
          if (a.at > back && a.status >= 200 && a.status < 300 && !recovered.has(a.what)) recovered.set(a.what, a.at - back)
        }
        yield* Effect.sleep(Duration.millis(50))
      }
      running = false
      yield* Fiber.join(load)

      const all = yield* Ref.get(answers)
      const during = all.filter((a) => a.at > down + 500 && a.at < back)
      assert.isAbove(during.length, 20, "requests were made during the outage")
      const unexpected = all.filter((a) => a.status !== 200 && a.status !== 503)
      assert.deepStrictEqual(unexpected.map((a) => `${a.what} ${a.status} ${a.body}`), [], "only 200s and 503s")
      const unavailable = all.filter((a) => a.status === 503)
      assert.isAbove(unavailable.length, 0, "the outage was noticed")
      for (const a of unavailable) {
        assert.strictEqual(a.retryAfter, "2", `${a.what}: Retry-After`)
        assert.include(["{\"error\":\"database unavailable\"}"], a.body, `${a.what}: body`)
      }
      // sticky hits on reserved rooms are answered from memory, database or not (a draining
      // room's reconnect is a change to store: that one needs the database)
      const stickyRefused = during.filter((a) => a.what === "sticky" && a.status !== 200)
      assert.deepStrictEqual(stickyRefused.map((a) => `${a.at - down} ms: ${a.status} ${a.body}`), [], "sticky hits during the outage")
      const slowest = Math.max(...recovered.values())
      assert.strictEqual(recovered.size, requests.length, `recovered: ${[...recovered.keys()]}`)
      assert.isBelow(slowest, 2_000, `recovery took ${slowest} ms after the database was back: ${JSON.stringify([...recovered])}`)
      console.log(`outage: ${during.length} requests while down, ${unavailable.length} answered 503; recovery ${JSON.stringify(Object.fromEntries(recovered))} ms`)

      // operators: at most a line a second about it, and no stack trace at all
      const outageLines = logs.lines.filter((l) => l.includes("Database unavailable"))
      assert.isAbove(outageLines.length, 0)
      assert.isAtMost(outageLines.length, 4 + 3, outageLines.join("\n"))
      assert.deepStrictEqual(logs.lines.filter((l) => /Request failed|\n\s+at |level=ERROR/.test(l)), [])
    }).pipe(Effect.scoped), 90_000)
})
