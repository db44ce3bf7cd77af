// The inspection endpoints through HTTP on the real database: every room's
// machine at once (paged, filtered), the machine definition, a room's
// history, gateway loads, and the live stream of changes.
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Layer, Schedule, Scope, Stream } from "effect"
import { HttpServer } from "effect/http"
import { serviceLayer } from "../../src/app.ts"
import type { Database } from "../../src/db/database.ts"
import { changeFrames } from "../../src/inspect/routes.ts"
import { roomChange } from "../../src/rooms/changes.ts"
import { backend } from "../support/database.ts"
import { databaseLayerFor } from "../support/rooms.ts"
import { client, type Reply, serviceOnFreshDatabase, testSettings } from "../support/service.ts"

const expectStatus = (reply: Reply, status: number) => {
  assert.strictEqual(reply.status, status, JSON.stringify(reply.body))
  return reply.body
}

const eventually = <A, E, R>(check: Effect.Effect<A, E, R>) =>
  Effect.retry(check, { schedule: Schedule.spaced(Duration.millis(100)), times: 80 })

const leaving = (feed: number, gateway: string, room = 2171) => ({
  emitter: gateway,
  type: 64,
  event: { plugin: "janus.plugin.videoroom", data: { event: "leaving", room, id: String(feed) } }
})

const rowOf = (body: { rooms: Array<any> }, room: number | string): any => body.rooms.find((r) => r.room === room)

interface SseEvent {
  readonly event: string
  readonly data: any
}

/** A reader of the change stream, as a script or the page reads it. */
const openStream = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const abort = new AbortController()
      const response = await fetch(url, { signal: abort.signal })
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ""
      const queue: Array<SseEvent> = []
      const next = async (): Promise<SseEvent> => {
        for (;;) {
          const shifted = queue.shift()
          if (shifted !== undefined) return shifted
          const { value, done } = await reader.read()
          if (done) throw new Error("the stream ended")
          buffer += value
          for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
            const block = buffer.slice(0, end).split("\n").filter((l) => !l.startsWith(":"))
            buffer = buffer.slice(end + 2)
            const event = block.find((l) => l.startsWith("event: "))?.slice(7)
            const data = block.find((l) => l.startsWith("data: "))?.slice(6)
            if (event !== undefined && data !== undefined) queue.push({ event, data: JSON.parse(data) })
          }
        }
      }
      return { response, next, abort }
    }),
    (s) => Effect.sync(() => s.abort.abort())
  )

describe(`inspection endpoints (${backend})`, () => {
  it.live("GET /admin/machine is the machine definition as data", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase()
      const definition = expectStatus(yield* api.get("/admin/machine"), 200)
      assert.strictEqual(definition.id, "room")
      assert.strictEqual(definition.initial, "idle")
      assert.deepStrictEqual(definition.states, ["idle", "assigning", "assigned", "draining"])
      const edges = definition.transitions.map((t: { from: string; event: string; to: string; guard: string | null }) =>
        `${t.from} -${t.event}${t.guard === null ? "" : ` [${t.guard}]`}-> ${t.to}`)
      assert.includeMembers(edges, [
        "idle -SERVER.REQUESTED-> assigning",
        "assigned -SESSION.LEFT [isLastSession]-> draining",
        "draining -after drainGrace-> idle"
      ])
    }).pipe(Effect.scoped))

  it.live("GET /admin/machines lists every room's machine; it follows a room through its lifecycle", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "1s" })
      const before = expectStatus(yield* api.get("/admin/machines"), 200)
      assert.strictEqual(before.rooms.length, 12)
      assert.deepStrictEqual(before.counts, { idle: 12 })
      assert.strictEqual(before.next_cursor, null)
      assert.isTrue(Math.abs(Date.parse(before.now) - Date.now()) < 5000)
      assert.deepStrictEqual(rowOf(before, 2171), {
        room: 2171, name: "Room 1", disabled: false, state: "idle", gateway: null, region: null,
        sessions: 0, deadline: null, timer: null, seq: 0, updated_at: null, last: null
      })

      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      expectStatus(yield* api.put("/users/u1", { room: 2171, janus, session: 1, rfid: 101, display: "User 1" }), 200)
      const assigned = expectStatus(yield* api.get("/admin/machines"), 200)
      assert.deepStrictEqual(assigned.counts, { assigned: 1, idle: 11 })
      const row = rowOf(assigned, 2171)
      assert.deepInclude(row, { state: "assigned", gateway: janus, sessions: 1, seq: 3 })
      // the reservation's TTL is still stored, but it will find the room in use and do nothing: no timer to show
      assert.isTrue(Date.parse(row.deadline) > Date.now())
      assert.isNull(row.timer)
      // the join is part of the history too
      assert.deepInclude(row.last, { seq: 3, from: "assigned", event: "SESSION.JOINED", to: "assigned", gateway: janus })
      assert.isTrue(Date.parse(row.updated_at) >= Date.parse(row.last.at))

      expectStatus(yield* api.post("/event", leaving(101, janus)), 200)
      const draining = rowOf(expectStatus(yield* api.get("/admin/machines?state=draining"), 200), 2171)
      assert.deepInclude(draining, { state: "draining", gateway: janus, sessions: 0 })
      assert.deepInclude(draining.last, { from: "assigned", event: "SESSION.LEFT", to: "draining" })
      const left = Date.parse(draining.deadline) - Date.now()
      assert.isTrue(left > 0 && left <= 1000, `deadline ${draining.deadline} is within the 1s drain grace`)
      assert.deepStrictEqual(draining.timer, { at: draining.deadline, event: "after drainGrace", to: "idle", releases: true })

      yield* eventually(Effect.flatMap(api.get("/admin/machines?room=2171"), (r) =>
        r.body.rooms[0]?.state === "idle" ? Effect.void : Effect.fail(r.body)))
      const idle = expectStatus(yield* api.get("/admin/machines?room=2171"), 200).rooms[0]
      assert.deepInclude(idle, { state: "idle", gateway: null, deadline: null, timer: null, seq: 5 })
      assert.deepInclude(idle.last, { from: "draining", event: "after drainGrace", to: "idle" })
    }).pipe(Effect.scoped))

  it.live("filters by state, gateway and search, and pages with a cursor", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const gateways: Record<number, string> = {}
      for (const room of [2172, 2175]) gateways[room] = expectStatus(yield* api.post("/v2/room_server", { room }), 200).janus

      const assigned = expectStatus(yield* api.get("/admin/machines?state=assigned"), 200)
      assert.deepStrictEqual(assigned.rooms.map((r: { room: number }) => r.room), [2172, 2175])
      assert.deepStrictEqual(assigned.counts, { assigned: 2, idle: 10 }, "counts cover every room, not the filter")
      const onGateway = expectStatus(yield* api.get(`/admin/machines?gateway=${gateways[2175]}`), 200)
      assert.deepStrictEqual(onGateway.rooms.map((r: { room: number }) => r.room), [2175])
      assert.deepStrictEqual(expectStatus(yield* api.get("/admin/machines?q=room%2011"), 200).rooms.map((r: { room: number }) => r.room), [2181])
      assert.deepStrictEqual(expectStatus(yield* api.get("/admin/machines?q=2173"), 200).rooms.map((r: { room: number }) => r.room), [2173])
      assert.deepStrictEqual(expectStatus(yield* api.get("/admin/machines?state=nothing"), 200).rooms, [])

      const seen: Array<number> = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page: { rooms: Array<{ room: number }>; next_cursor: string | null } = expectStatus(
          yield* api.get(`/admin/machines?limit=5${cursor === null ? "" : `&cursor=${cursor}`}`),
          200
        )
        assert.isAtMost(page.rooms.length, 5)
        seen.push(...page.rooms.map((r) => r.room))
        cursor = page.next_cursor
        pages++
      } while (cursor !== null)
      assert.strictEqual(pages, 3)
      assert.deepStrictEqual(seen, Array.from({ length: 12 }, (_, i) => 2171 + i))
    }).pipe(Effect.scoped))

  it.live("bad query parameters are a 400 naming the parameter", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase()
      for (const [query, field] of [["limit=0", "limit"], ["limit=5001", "limit"], ["limit=ten", "limit"], ["cursor=abc", "cursor"], ["gateway=%20x", "gateway"], ["room=a%20b", "room"]]) {
        const body = expectStatus(yield* api.get(`/admin/machines?${query}`), 400)
        assert.match(body.error, new RegExp(`^invalid query: ${field}: `), query)
      }
      assert.match(expectStatus(yield* api.get("/admin/machines/history"), 400).error, /room: is required/)
      assert.match(expectStatus(yield* api.get("/admin/machines/history?room=2171&limit=0"), 400).error, /limit: /)
    }).pipe(Effect.scoped))

  it.live("GET /admin/machines/history answers a room's transitions newest first; 404 for an unknown room", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "300ms" })
      assert.deepStrictEqual(expectStatus(yield* api.get("/admin/machines/history?room=2171"), 200), { room: 2171, history: [] })
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      expectStatus(yield* api.put("/users/u1", { room: 2171, janus, session: 1, rfid: 101, display: "User 1" }), 200)
      expectStatus(yield* api.post("/event", leaving(101, janus)), 200)
      yield* eventually(Effect.flatMap(api.get("/admin/machines/history?room=2171"), (r) =>
        r.body.history.length === 5 ? Effect.void : Effect.fail(r.body)))
      const { history } = expectStatus(yield* api.get("/admin/machines/history?room=2171"), 200)
      assert.deepStrictEqual(history.map((t: { seq: number; from: string; event: string; to: string }) => `${t.seq} ${t.from} -${t.event}-> ${t.to}`), [
        "5 draining -after drainGrace-> idle",
        "4 assigned -SESSION.LEFT-> draining",
        "3 assigned -SESSION.JOINED-> assigned",
        "2 assigning -BALANCER.DONE-> assigned",
        "1 idle -SERVER.REQUESTED-> assigning"
      ])
      const times = history.map((t: { at: string }) => Date.parse(t.at))
      assert.deepStrictEqual([...times].sort((a, b) => b - a), times)
      assert.strictEqual(expectStatus(yield* api.get("/admin/machines/history?room=2171&limit=2"), 200).history.length, 2)
      assert.deepStrictEqual(expectStatus(yield* api.get("/admin/machines/history?room=999"), 404), { error: "room 999 not found" })
      assert.deepStrictEqual(expectStatus(yield* api.get("/admin/machines/history?room=abc-1"), 404), { error: "room abc-1 not found" })
    }).pipe(Effect.scoped))

  it.live("GET /admin/gateway-loads: load is the sum over rooms of max(users, AVG_ROOM_OCCUPANCY); flags follow admin changes", () =>
    Effect.gen(function*() {
      const { api } = yield* serviceOnFreshDatabase({ SCALE: "true", AVG_ROOM_OCCUPANCY: "3", MAX_SERVER_CAPACITY: "50", AVAILABLE_JANUS_SERVERS: "gxy1,gxy2" })
      expectStatus(yield* api.patch("/admin/gateways/gxy2", { draining: true, capacity: 20 }), 200)
      // room 2171: 1 user (counts 3); room 2172: 4 users (counts 4); both on gxy1, gxy2 being drained
      for (const [room, users] of [[2171, 1], [2172, 4]] as const) {
        assert.deepStrictEqual(expectStatus(yield* api.post("/v2/room_server", { room }), 200), { janus: "gxy1" })
        for (let i = 0; i < users; i++) {
          expectStatus(yield* api.put(`/users/u${room}-${i}`, { room, janus: "gxy1", session: room * 10 + i, rfid: room * 10 + i, display: "U" }), 200)
        }
      }
      const loads = expectStatus(yield* api.get("/admin/gateway-loads"), 200)
      assert.strictEqual(loads.length, 12)
      assert.deepStrictEqual(loads[0], { name: "gxy1", region: null, capacity: 50, load: 7, reserved: 0, rooms: 2, users: 5, enabled: true, draining: false, online: null, available: true })
      assert.deepStrictEqual(loads[1], { name: "gxy2", region: null, capacity: 20, load: 0, reserved: 0, rooms: 0, users: 0, enabled: true, draining: true, online: null, available: true })
      assert.deepInclude(loads[2], { name: "gxy3", available: false })
    }).pipe(Effect.scoped))
})

describe(`GET /admin/machines/events (${backend})`, () => {
  it.live("streams each room change as it is committed, to every reader", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true", DRAIN_GRACE: "300ms" })
      const first = yield* openStream(`${base}/admin/machines/events`)
      const second = yield* openStream(`${base}/admin/machines/events`)
      assert.strictEqual(first.response.status, 200)
      assert.strictEqual(first.response.headers.get("content-type"), "text/event-stream")
      for (const s of [first, second]) assert.strictEqual((yield* Effect.promise(s.next)).event, "ready")

      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2171 }), 200)
      expectStatus(yield* api.put("/users/u1", { room: 2171, janus, session: 1, rfid: 101, display: "User 1" }), 200)
      expectStatus(yield* api.post("/event", leaving(101, janus)), 200)

      for (const s of [first, second]) {
        const events: Array<SseEvent> = []
        for (let i = 0; i < 4; i++) events.push(yield* Effect.promise(s.next))
        assert.deepStrictEqual(events.map((e) => e.event), ["room", "room", "room", "room"])
        // a new room is placed in one commit: one change, its last transition the balancer's answer
        assert.deepStrictEqual(events.map((e) => `${e.data.room} ${e.data.state} ${e.data.sessions} ${e.data.last?.event ?? "-"}`), [
          `2171 assigned 0 BALANCER.DONE`,
          "2171 assigned 1 SESSION.JOINED",
          "2171 draining 0 SESSION.LEFT",
          "2171 idle 0 after drainGrace"
        ])
        assert.deepInclude(events[0]!.data, { gateway: janus, seq: 2 })
        assert.isString(events[0]!.data.deadline, "a fresh reservation has its TTL pending")
        assert.deepStrictEqual(events[0]!.data.timer, { at: events[0]!.data.deadline, event: "after assignmentTtl", to: "idle", releases: true })
        assert.strictEqual(events[1]!.data.deadline, events[0]!.data.deadline, "joining leaves the reservation's timer as it was")
        assert.isNull(events[1]!.data.timer, "but with a user in the room it can no longer release it")
        assert.isTrue(Date.parse(events[2]!.data.deadline) > Date.parse(events[2]!.data.updated_at))
        assert.deepStrictEqual(events[2]!.data.timer, { at: events[2]!.data.deadline, event: "after drainGrace", to: "idle", releases: true })
        assert.isNull(events[3]!.data.timer)
      }
    }).pipe(Effect.scoped))

  it.live("tells each room created, changed or removed, through the admin routes or seed 003's", () =>
    Effect.gen(function*() {
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const stream = yield* openStream(`${base}/admin/machines/events`)
      assert.strictEqual((yield* Effect.promise(stream.next)).event, "ready")

      expectStatus(yield* api.post("/admin/rooms", { room: 3001, name: "Ops briefing" }), 201)
      assert.deepStrictEqual(yield* Effect.promise(stream.next), {
        event: "catalog",
        data: { room: 3001, name: "Ops briefing", disabled: false, kind: "gxydb", removed: false }
      })
      const meeting = expectStatus(yield* api.post("/api/rooms/create", { name: "Stand-up" }), 201).room
      assert.deepStrictEqual(yield* Effect.promise(stream.next), {
        event: "catalog",
        data: { room: meeting.id, name: "Stand-up", disabled: false, kind: "meeting", removed: false }
      })
      expectStatus(yield* api.patch("/admin/rooms/3001", { name: "Ops", disabled: true }), 200)
      assert.deepStrictEqual(yield* Effect.promise(stream.next), {
        event: "catalog",
        data: { room: 3001, name: "Ops", disabled: true, kind: "gxydb", removed: false }
      })
      expectStatus(yield* api.delete("/admin/rooms/3001"), 200)
      assert.deepStrictEqual(yield* Effect.promise(stream.next), { event: "catalog", data: { room: 3001, removed: true } })
    }).pipe(Effect.scoped))

  it.live("an open stream ends when the service stops, instead of holding the shutdown for its 10 s grace", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { base } = yield* serviceOnFreshDatabase().pipe(Scope.provide(scope))
      const stream = yield* openStream(`${base}/admin/machines/events`)
      assert.strictEqual((yield* Effect.promise(stream.next)).event, "ready")
      const ended = Effect.promise(() => stream.next().then(() => "more", (e: Error) => e.message))
      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      const took = Date.now() - started
      assert.isBelow(took, 5000, `stopped in ${took} ms`)
      assert.strictEqual(yield* ended, "the stream ended")
    }).pipe(Effect.scoped))

  it.effect("a reader that fell behind is told to reload; heartbeats keep the stream alive", () =>
    Effect.gen(function*() {
      const change = (room: number) => roomChange({ room: String(room), state: "idle", gateway: null, region: null, sessions: 0, deadline: null, seq: 1 }, undefined, 0)
      const feed = Stream.make({ position: 7, change: change(1) }, { position: 8, change: change(2) }, { position: 12, change: change(3) })
      const frames = yield* Stream.runCollect(Stream.take(changeFrames(feed, false, "1 hour"), 5))
      const text = frames.join("")
      assert.match(frames[0]!, /^retry: 1000\nevent: ready\n/)
      const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => `${m[1]} ${JSON.parse(m[2]!).room ?? ""}`)
      assert.deepStrictEqual(events, ["ready ", "room 1", "room 2", "reset ", "room 3"])
      assert.include(text, ": heartbeat\n\n")
    }))
})

describe.skipIf(backend !== "postgres")("inspection across processes (postgres)", () => {
  it.live("a second process on the same database lists the rooms the first one assigned", () =>
    Effect.gen(function*() {
      const { api, db } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const context = yield* Layer.build(serviceLayer(testSettings({ SCALE: "true" }), { database: databaseLayerFor(db) as unknown as typeof Database }))
      const other = client(HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address))
      const { janus } = expectStatus(yield* api.post("/v2/room_server", { room: 2174 }), 200)
      const row = rowOf(expectStatus(yield* other.get("/admin/machines?room=2174"), 200), 2174)
      assert.deepInclude(row, { state: "assigned", gateway: janus })
      assert.deepInclude(expectStatus(yield* other.get("/admin/machines"), 200).counts, { assigned: 1, idle: 11 })
    }).pipe(Effect.scoped))

  it.live("a room created through one process reaches the stream of another (by the catalog's reload, without notices)", () =>
    Effect.gen(function*() {
      const { api, db } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      const context = yield* Layer.build(serviceLayer(testSettings({ SCALE: "true" }), { database: databaseLayerFor(db) as unknown as typeof Database }))
      const otherBase = HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address)
      const stream = yield* openStream(`${otherBase}/admin/machines/events`)
      assert.strictEqual((yield* Effect.promise(stream.next)).event, "ready")
      const started = Date.now()
      expectStatus(yield* api.post("/admin/rooms", { room: 3002, name: "Elsewhere" }), 201)
      assert.deepStrictEqual(yield* Effect.promise(stream.next), {
        event: "catalog",
        data: { room: 3002, name: "Elsewhere", disabled: false, kind: "gxydb", removed: false }
      })
      assert.isBelow(Date.now() - started, 7000, "within the catalog's 5 s reload")
    }).pipe(Effect.scoped))
})
