// The rooms runtime over a fresh, migrated and seeded test database, on the
// cluster's TestRunner, with a balancer that counts its calls and, when asked,
// a TestClock the rooms read their time from.
import { Clock, Context, Effect, Layer, Ref } from "effect"
import { TestClock } from "effect/testing"
import { TestRunner } from "effect/cluster"
import { SqlClient } from "effect/sql"
import { AppConfig } from "../../src/config.ts"
import { embeddedLayer, postgresLayer } from "../../src/db/database.ts"
import { makeMigrator } from "../../src/db/migrator.ts"
import { seedDemoData } from "../../src/db/seed.ts"
import { loggingLayer } from "../../src/logging.ts"
import { roomsLayer } from "../../src/rooms/layer.ts"
import { Placement } from "../../src/rooms/placement.ts"
import { Rooms } from "../../src/rooms/roomClient.ts"
import { SessionStore } from "../../src/db/sessionStore.ts"
import type { FreshDatabase } from "./database.ts"
import { testSettings } from "./service.ts"

/** How many times the balancer ran, per room number. */
export class PlacementCalls extends Context.Service<PlacementCalls, Ref.Ref<ReadonlyArray<string>>>()("test/PlacementCalls") {}

const countingPlacement = Layer.effect(Placement, Effect.gen(function*() {
  const calls = yield* PlacementCalls
  const real = yield* Placement
  return {
    ...real,
    candidates: (request, options) => Ref.update(calls, (c) => [...c, request.room]).pipe(Effect.andThen(real.candidates(request, options)))
  }
})).pipe(Layer.provide(Placement.layer))

export const databaseLayerFor = (db: FreshDatabase) => "url" in db ? postgresLayer(db.url) : embeddedLayer(db.dataDir)

/** Migrates and seeds the demo data. */
export const prepared = <ROut, E, R>(database: Layer.Layer<ROut, E, R>) =>
  Layer.effectDiscard(Effect.gen(function*() {
    yield* (yield* makeMigrator()).up
    yield* seedDemoData
  })).pipe(Layer.provideMerge(database))

/** The clock the rooms read, when a test moves time itself (the test's own fibers keep real time). */
export class RoomClock extends Context.Service<RoomClock, Effect.Success<ReturnType<typeof TestClock.make>>>()("test/RoomClock") {}

const roomClock = Layer.effect(RoomClock, Effect.tap(TestClock.make(), (clock) => clock.setTime(Date.now())))
const roomClockAsClock = Layer.effect(Clock.Clock, Effect.gen(function*() {
  return yield* RoomClock
}))

/** Rooms on `db` with settings from `env` (short timers by default). */
export const roomsOn = (
  db: FreshDatabase,
  env: Record<string, string> = {},
  options: {
    readonly placement?: Layer.Layer<Placement, never, Layer.Services<typeof Placement.layer>>
    readonly rooms?: typeof Rooms.layer
    /** Rooms read a TestClock (RoomClock) instead of real time. */
    readonly testClock?: boolean
    /** Where log lines go (warnings and errors to the console by default). */
    readonly logger?: Layer.Layer<never>
  } = {}
) => {
  const settings = testSettings({ DRAIN_GRACE: "600ms", ASSIGNMENT_TTL: "1s", ...env })
  const clock = options.testClock ? { clock: roomClockAsClock.pipe(Layer.provide(roomClock)) as unknown as Layer.Layer<never> } : {}
  return roomsLayer(TestRunner.layer, { placement: options.placement ?? countingPlacement, ...(options.rooms ? { rooms: options.rooms } : {}), ...clock }).pipe(
    Layer.provideMerge(SessionStore.layer),
    Layer.provideMerge(roomClock),
    Layer.provideMerge(Layer.effect(PlacementCalls, Ref.make<ReadonlyArray<string>>([]))),
    Layer.provideMerge(prepared(databaseLayerFor(db))),
    Layer.provideMerge(AppConfig.layer(settings)),
    Layer.provide(options.logger ?? loggingLayer("logfmt", "warn"))
  )
}

export const query = <A extends object>(text: string, ...params: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<A>(text, params).pipe(Effect.orDie)
  })

/** The room's assignment row, as the seeds' table holds it. */
export const assignmentOf = (room: string) =>
  query<{ gateway_name: string; region: string | null }>(
    `SELECT a.gateway_name, a.region FROM room_server_assignments a JOIN rooms r ON r.id = a.room_id WHERE r.room = $1`,
    room
  ).pipe(Effect.map((rows) => rows[0]))

export const transitionsOf = (room: string) =>
  query<{ seq: number; from_state: string; event: string; to_state: string; gateway_name: string | null; sessions: number | null }>(
    `SELECT t.seq, t.from_state, t.event, t.to_state, t.gateway_name, t.sessions
     FROM room_transitions t JOIN rooms r ON r.id = t.room_id WHERE r.room = $1 ORDER BY t.seq`,
    room
  )
