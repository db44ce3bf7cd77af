// Atomic capacity: rooms placed at the same time never overcommit a gateway.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { TestRunner } from "effect/cluster"
import { AppConfig } from "../../src/config.ts"
import { loggingLayer } from "../../src/logging.ts"
import { roomsLayer } from "../../src/rooms/layer.ts"
import { CurrentMetrics } from "../../src/metrics/families.ts"
import { Rooms } from "../../src/rooms/roomClient.ts"
import { backend, freshDatabase, freshPostgresUrl, realPostgresUrl } from "../support/database.ts"
import { databaseLayerFor, prepared, query, roomsOn } from "../support/rooms.ts"
import { testSettings } from "../support/service.ts"

const firstRoom = 10_001
const roomCount = 600
const rooms = Array.from({ length: roomCount }, (_, i) => firstRoom + i)

const addRooms = query(
  `INSERT INTO rooms (room, name, join_code)
   SELECT g, 'Class ' || g, lpad(g::text, 6, '0') FROM generate_series($1::int, $2::int) g`,
  firstRoom,
  firstRoom + roomCount - 1
)

const perGateway = query<{ gateway_name: string; rooms: number }>(
  `SELECT gateway_name, count(*)::int AS rooms FROM room_server_assignments GROUP BY gateway_name ORDER BY gateway_name`
)

// These runtimes provide no metrics of their own: placements count into the default set.
const overflowCount = CurrentMetrics.use((m) => Effect.promise(() => m.overflow.get())).pipe(
  Effect.map((s) => s.values[0]?.value ?? 0)
)

const expectEvenSpread = (counts: ReadonlyArray<{ rooms: number }>) => {
  assert.strictEqual(counts.length, 12)
  assert.strictEqual(counts.reduce((n, c) => n + c.rooms, 0), roomCount)
  const sizes = counts.map((c) => c.rooms)
  assert.isAtMost(Math.max(...sizes) - Math.min(...sizes), 1, `rooms per gateway: ${sizes}`)
}

describe(`gateway capacity under concurrent placement (${backend})`, () => {
  it.live("600 concurrent first requests for 600 rooms: 480 within capacity, 120 overflow, spread evenly", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      yield* Effect.gen(function*() {
        yield* addRooms
        const before = yield* overflowCount
        const rooms_ = yield* Rooms
        yield* Effect.forEach(rooms, (room) => rooms_.requestServer(String(room)), { concurrency: "unbounded", discard: true })
        assert.strictEqual((yield* overflowCount) - before, 120)
        expectEvenSpread(yield* perGateway)
      }).pipe(Effect.provide(roomsOn(db, { MAX_SERVER_CAPACITY: "400", AVG_ROOM_OCCUPANCY: "10", ASSIGNMENT_TTL: "10m" }, {
        // capacity is the point here, not latency: the embedded database serializes every placement
        rooms: Rooms.layerWithTimeout(Duration.seconds(60))
      })))
    }).pipe(Effect.scoped), 120_000)

  it.live.skipIf(realPostgresUrl === undefined)("two runtimes with their own connections placing at once still hold capacity", () =>
    Effect.gen(function*() {
      const url = yield* freshPostgresUrl(realPostgresUrl!)
      yield* Layer.build(prepared(databaseLayerFor({ url }))).pipe(Effect.scoped)
      // Each runtime stands for a process: its own cluster, its own pool.
      const runtime = roomsLayer(TestRunner.layer).pipe(
        Layer.provideMerge(databaseLayerFor({ url })),
        Layer.provideMerge(AppConfig.layer(testSettings())),
        Layer.provide(loggingLayer("logfmt", "error"))
      )
      const place = (share: ReadonlyArray<number>) =>
        Effect.gen(function*() {
          const r = yield* Rooms
          yield* Effect.forEach(share, (room) => r.requestServer(String(room)), { concurrency: "unbounded", discard: true })
        }).pipe(Effect.provide(runtime))
      yield* Effect.provide(addRooms, databaseLayerFor({ url }))
      const before = yield* overflowCount
      yield* Effect.all([place(rooms.filter((r) => r % 2 === 0)), place(rooms.filter((r) => r % 2 === 1))], { concurrency: 2 })
      assert.strictEqual((yield* overflowCount) - before, 120)
      expectEvenSpread(yield* Effect.provide(perGateway, databaseLayerFor({ url })))
    }).pipe(Effect.scoped), 120_000)
})
