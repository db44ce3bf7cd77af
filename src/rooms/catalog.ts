// The room catalog in memory: what legacy mode and /groups answer from
// without touching the database. Changes made through this process apply at
// once; it is reloaded every few seconds (changes made by another process)
// and after a gateway changes (its rooms' default gateway may be disabled).
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { type CatalogRow, CatalogStore, type RoomInput, type RoomPatch, type RoomWriteProblem } from "../db/catalogStore.ts"
import { newJoinCode } from "../domain/joinCode.ts"

export const catalogRefreshInterval = Duration.seconds(5)

export type NewRoom = Omit<RoomInput, "joinCode">

const byName = new Intl.Collator("en", { numeric: true })

export class RoomCatalog extends Context.Service<RoomCatalog, {
  readonly find: (room: number) => Effect.Effect<CatalogRow | undefined>
  readonly findByJoinCode: (code: string) => Effect.Effect<CatalogRow | undefined>
  readonly all: Effect.Effect<ReadonlyArray<CatalogRow>>
  /** Enabled rooms sorted by name, as /groups lists them. */
  readonly enabled: Effect.Effect<ReadonlyArray<CatalogRow>>
  readonly refresh: Effect.Effect<void>
  /** Creates a room with a fresh join code. */
  readonly create: (room: NewRoom) => Effect.Effect<CatalogRow | RoomWriteProblem>
  readonly update: (room: number, patch: RoomPatch) => Effect.Effect<CatalogRow | RoomWriteProblem>
  readonly remove: (room: number) => Effect.Effect<boolean>
}>()("room-orchestrator/RoomCatalog") {
  static readonly layer = Layer.effect(RoomCatalog, Effect.gen(function*() {
    const store = yield* CatalogStore
    // Plain maps, changed only in Effect.sync: the event loop serializes them.
    let rooms = new Map<number, CatalogRow>()
    let joinCodes = new Map<string, CatalogRow>()
    let enabledSorted: ReadonlyArray<CatalogRow> | undefined

    const load = (rows: ReadonlyArray<CatalogRow>) =>
      Effect.sync(() => {
        rooms = new Map(rows.map((r) => [r.room, r]))
        joinCodes = new Map(rows.map((r) => [r.joinCode, r]))
        enabledSorted = undefined
      })

    const apply = (room: number, row: CatalogRow | undefined) =>
      Effect.sync(() => {
        const old = rooms.get(room)
        if (old !== undefined) joinCodes.delete(old.joinCode)
        if (row === undefined) rooms.delete(room)
        else {
          rooms.set(room, row)
          joinCodes.set(row.joinCode, row)
        }
        enabledSorted = undefined
      })

    const refresh = Effect.flatMap(store.rooms, load)
    yield* refresh
    yield* refresh.pipe(
      Effect.delay(catalogRefreshInterval),
      Effect.catchCause((cause) => Effect.logWarning("Room catalog refresh failed", cause)),
      Effect.forever,
      Effect.forkScoped
    )

    const written = (room: number) => (r: CatalogRow | RoomWriteProblem): Effect.Effect<CatalogRow | RoomWriteProblem> =>
      typeof r === "string" ? Effect.succeed(r) : Effect.as(apply(room, r), r)

    // A join code collision is retried with a new code.
    const create = (room: NewRoom): Effect.Effect<CatalogRow | RoomWriteProblem> =>
      Effect.flatMap(store.create({ ...room, joinCode: newJoinCode() }), (r) => (r === "join code taken" ? create(room) : Effect.succeed(r)))

    return {
      find: (room) => Effect.sync(() => rooms.get(room)),
      findByJoinCode: (code) => Effect.sync(() => joinCodes.get(code.toUpperCase())),
      all: Effect.sync(() => [...rooms.values()]),
      enabled: Effect.sync(() =>
        (enabledSorted ??= [...rooms.values()].filter((r) => !r.disabled).sort((a, b) => byName.compare(a.name, b.name) || a.room - b.room))
      ),
      refresh,
      create: (room) => Effect.flatMap(create(room), written(room.room)),
      update: (room, patch) => Effect.flatMap(store.update(room, patch), written(room)),
      remove: (room) => Effect.tap(store.remove(room), (removed) => (removed ? apply(room, undefined) : Effect.void))
    }
  }))
}
