// The rooms runtime over a fresh, migrated and seeded test database, on the
// cluster's TestRunner, with a balancer that counts its calls.
import { Context, Effect, Layer, Ref } from "effect"
import { TestRunner } from "effect/cluster"
import { SqlClient } from "effect/sql"
import { Config } from "../../src/config.ts"
import { embeddedLayer, postgresLayer } from "../../src/db/database.ts"
import { makeMigrator } from "../../src/db/migrator.ts"
import { seedDemoData } from "../../src/db/seed.ts"
import { loggingLayer } from "../../src/logging.ts"
import { roomsLayer } from "../../src/rooms/layer.ts"
import { Placement } from "../../src/rooms/placement.ts"
import { Rooms } from "../../src/rooms/rooms.ts"
import type { FreshDatabase } from "./database.ts"
import { testSettings } from "./service.ts"

/** How many times the balancer ran, per room number. */
export class PlacementCalls extends Context.Service<PlacementCalls, Ref.Ref<ReadonlyArray<number>>>()("test/PlacementCalls") {}

const countingPlacement = Layer.effect(Placement, Effect.gen(function*() {
  const calls = yield* PlacementCalls
  const real = yield* Placement
  return {
    place: (request) => Ref.update(calls, (c) => [...c, request.room]).pipe(Effect.andThen(real.place(request)))
  }
})).pipe(Layer.provide(Placement.layer))

export const databaseLayerFor = (db: FreshDatabase) => "url" in db ? postgresLayer(db.url) : embeddedLayer(db.dataDir)

/** Migrates and seeds the demo data. */
export const prepared = <E, R>(database: Layer.Layer<SqlClient.SqlClient, E, R>) =>
  Layer.effectDiscard(Effect.gen(function*() {
    yield* (yield* makeMigrator()).up
    yield* seedDemoData
  })).pipe(Layer.provideMerge(database))

/** Rooms on `db` with settings from `env` (short timers by default). */
export const roomsOn = (
  db: FreshDatabase,
  env: Record<string, string> = {},
  options: { readonly placement?: Layer.Layer<Placement, never, never>; readonly rooms?: typeof Rooms.layer } = {}
) => {
  const settings = testSettings({ DRAIN_GRACE: "600ms", ASSIGNMENT_TTL: "1s", ...env })
  return roomsLayer(TestRunner.layer, { placement: options.placement ?? countingPlacement, ...(options.rooms ? { rooms: options.rooms } : {}) }).pipe(
    Layer.provideMerge(Layer.effect(PlacementCalls, Ref.make<ReadonlyArray<number>>([]))),
    Layer.provideMerge(prepared(databaseLayerFor(db))),
    Layer.provideMerge(Config.layer(settings)),
    Layer.provide(loggingLayer("logfmt", "warn"))
  )
}

export const query = <A extends object>(text: string, ...params: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<A>(text, params).pipe(Effect.orDie)
  })

/** The room's assignment row, as the seeds' table holds it. */
export const assignmentOf = (room: number) =>
  query<{ gateway_name: string; region: string | null }>(
    `SELECT a.gateway_name, a.region FROM room_server_assignments a JOIN rooms r ON r.id = a.room_id WHERE r.room = $1`,
    room
  ).pipe(Effect.map((rows) => rows[0]))

export const transitionsOf = (room: number) =>
  query<{ seq: number; from_state: string; event: string; to_state: string; gateway_name: string | null }>(
    `SELECT t.seq, t.from_state, t.event, t.to_state, t.gateway_name
     FROM room_transitions t JOIN rooms r ON r.id = t.room_id WHERE r.room = $1 ORDER BY t.seq`,
    room
  )
