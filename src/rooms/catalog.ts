// The room catalog in memory: what legacy mode and /groups answer from
// without touching the database. Reloaded after every change made through
// this process and every few seconds (changes made by another process).
import { Context, Duration, Effect, Layer, Ref, Schedule } from "effect"
import { type CatalogRow, CatalogStore, type RoomInput, type RoomPatch, type RoomWriteProblem } from "../db/catalogStore.ts"
import { newJoinCode } from "../domain/joinCode.ts"

export const catalogRefreshInterval = Duration.seconds(5)

interface Snapshot {
  readonly byRoom: ReadonlyMap<number, CatalogRow>
  readonly byJoinCode: ReadonlyMap<string, CatalogRow>
  /** Enabled rooms sorted by name, as /groups lists them. */
  readonly enabled: ReadonlyArray<CatalogRow>
}

const index = (rows: ReadonlyArray<CatalogRow>): Snapshot => ({
  byRoom: new Map(rows.map((r) => [r.room, r])),
  byJoinCode: new Map(rows.map((r) => [r.joinCode, r])),
  enabled: rows.filter((r) => !r.disabled).sort((a, b) => a.name.localeCompare(b.name) || a.room - b.room)
})

export type NewRoom = Omit<RoomInput, "joinCode">

export class RoomCatalog extends Context.Service<RoomCatalog, {
  readonly find: (room: number) => Effect.Effect<CatalogRow | undefined>
  readonly findByJoinCode: (code: string) => Effect.Effect<CatalogRow | undefined>
  readonly all: Effect.Effect<ReadonlyArray<CatalogRow>>
  readonly enabled: Effect.Effect<ReadonlyArray<CatalogRow>>
  readonly refresh: Effect.Effect<void>
  /** Creates a room with a fresh join code. */
  readonly create: (room: NewRoom) => Effect.Effect<CatalogRow | RoomWriteProblem>
  readonly update: (room: number, patch: RoomPatch) => Effect.Effect<CatalogRow | RoomWriteProblem>
  readonly remove: (room: number) => Effect.Effect<boolean>
}>()("room-orchestrator/RoomCatalog") {
  static readonly layer = Layer.effect(RoomCatalog, Effect.gen(function*() {
    const store = yield* CatalogStore
    const snapshot = yield* Ref.make(index(yield* store.rooms))
    const refresh = Effect.flatMap(store.rooms, (rows) => Ref.set(snapshot, index(rows)))
    yield* refresh.pipe(
      Effect.catchCause((cause) => Effect.logWarning("Room catalog refresh failed", cause)),
      Effect.repeat(Schedule.spaced(catalogRefreshInterval)),
      Effect.forkScoped
    )

    const after = <A>(write: Effect.Effect<A>) => Effect.tap(write, () => refresh)

    // A join code collision is retried with a new code.
    const create = (room: NewRoom): Effect.Effect<CatalogRow | RoomWriteProblem> =>
      Effect.flatMap(store.create({ ...room, joinCode: newJoinCode() }), (r) => (r === "join code taken" ? create(room) : Effect.succeed(r)))

    return {
      find: (room) => Effect.map(Ref.get(snapshot), (s) => s.byRoom.get(room)),
      findByJoinCode: (code) => Effect.map(Ref.get(snapshot), (s) => s.byJoinCode.get(code.toUpperCase())),
      all: Effect.map(Ref.get(snapshot), (s) => [...s.byRoom.values()]),
      enabled: Effect.map(Ref.get(snapshot), (s) => s.enabled),
      refresh,
      create: (room) => after(create(room)),
      update: (room, patch) => after(store.update(room, patch)),
      remove: (room) => after(store.remove(room))
    }
  }))
}
