// The room catalog in memory: what legacy mode and /groups answer from
// without touching the database. Changes made through this process apply at
// once and are told to the other processes, which reload it (a notice
// through Postgres); it also looks every few seconds for changes made
// behind the service's back, and reloads when the tables changed. Every
// room it sees appear, change or go is told to `changes` readers (the
// inspector's stream), whichever way it came.
import { Context, Duration, Effect, Layer, PubSub, type Scope, Stream } from "effect"
import { type CatalogRow, CatalogStore, type RoomInput, type RoomPatch, type RoomWriteProblem } from "../db/catalogStore.ts"
import { Notices } from "../db/notices.ts"
import { DatabaseOutage } from "../db/databaseOutage.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import { newJoinCode } from "../domain/joinCode.ts"
import type { RoomId } from "../domain/room.ts"

export const catalogRefreshInterval = Duration.seconds(5)

export type NewRoom = Omit<RoomInput, "joinCode">

const byName = new Intl.Collator("en", { numeric: true })

/** A room the catalog gained, changed or lost (`row` undefined). */
export interface CatalogChange {
  readonly room: RoomId
  readonly row: CatalogRow | undefined
}

const sameListing = (a: CatalogRow, b: CatalogRow) =>
  a.name === b.name && a.disabled === b.disabled && a.kind === b.kind && a.updatedAt.getTime() === b.updatedAt.getTime()

export class RoomCatalog extends Context.Service<RoomCatalog, {
  readonly find: (room: RoomId) => Effect.Effect<CatalogRow | undefined>
  readonly findByJoinCode: (code: string) => Effect.Effect<CatalogRow | undefined>
  readonly all: Effect.Effect<ReadonlyArray<CatalogRow>>
  /** Enabled rooms sorted by name, as /groups lists them. */
  readonly enabled: Effect.Effect<ReadonlyArray<CatalogRow>>
  readonly refresh: Effect.Effect<void, DatabaseUnavailable>
  /** Creates a room with a fresh join code. */
  readonly create: (room: NewRoom) => Effect.Effect<CatalogRow | RoomWriteProblem, DatabaseUnavailable>
  readonly update: (room: RoomId, patch: RoomPatch) => Effect.Effect<CatalogRow | RoomWriteProblem, DatabaseUnavailable>
  readonly remove: (room: RoomId) => Effect.Effect<boolean, DatabaseUnavailable>
  /** Deletes meeting rooms empty since `before` (see CatalogStore.removeIdleMeetings); answers their ids. */
  readonly removeIdleMeetings: (before: Date) => Effect.Effect<ReadonlyArray<RoomId>, DatabaseUnavailable>
  /** Rooms created, changed or removed from now on (here, in another process, or by hand), for as long as the scope is open. */
  readonly changes: Effect.Effect<Stream.Stream<CatalogChange>, never, Scope.Scope>
}>()("room-orchestrator/RoomCatalog") {
  static readonly layer = Layer.effect(RoomCatalog, Effect.gen(function*() {
    const store = yield* CatalogStore
    const outage = yield* DatabaseOutage
    const notices = yield* Notices
    const changed = yield* Effect.acquireRelease(PubSub.unbounded<CatalogChange>(), PubSub.shutdown)
    // Plain maps, changed only synchronously (inside Effect.sync or suspend): the event loop serializes them.
    let rooms = new Map<RoomId, CatalogRow>()
    let joinCodes = new Map<string, CatalogRow>()
    let enabledSorted: ReadonlyArray<CatalogRow> | undefined

    // Writes made here while a reload's query ran are newer than what it read:
    // they are applied again on top, so a room created meanwhile never vanishes.
    let writeCount = 0
    const localWrites = new Map<RoomId, { readonly at: number; readonly row: CatalogRow | undefined }>()

    const setRoom = (room: RoomId, row: CatalogRow | undefined) => {
      const old = rooms.get(room)
      if (old !== undefined) joinCodes.delete(old.joinCode)
      if (row === undefined) rooms.delete(room)
      else {
        rooms.set(room, row)
        joinCodes.set(row.joinCode, row)
      }
      enabledSorted = undefined
    }

    const load = (rows: ReadonlyArray<CatalogRow>, since: number) =>
      Effect.suspend(() => {
        const before = rooms
        rooms = new Map(rows.map((r) => [r.room, r]))
        joinCodes = new Map(rows.map((r) => [r.joinCode, r]))
        enabledSorted = undefined
        for (const [room, w] of localWrites) {
          if (w.at > since) setRoom(room, w.row)
          else localWrites.delete(room)
        }
        const found: Array<CatalogChange> = []
        for (const [room, row] of rooms) {
          const old = before.get(room)
          if (old === undefined || !sameListing(old, row)) found.push({ room, row })
        }
        for (const room of before.keys()) if (!rooms.has(room)) found.push({ room, row: undefined })
        return found.length === 0 ? Effect.void : PubSub.publishAll(changed, found)
      })

    const apply = (room: RoomId, row: CatalogRow | undefined) =>
      Effect.suspend(() => {
        localWrites.set(room, { at: ++writeCount, row })
        setRoom(room, row)
        return PubSub.publish(changed, { room, row })
      })

    // The tables' fingerprint when the rows in memory were read (read before
    // them, so a change made meanwhile shows at the next look).
    let seen: string | undefined
    const refresh = Effect.suspend(() => {
      const since = writeCount
      return Effect.flatMap(store.fingerprint, (fingerprint) =>
        Effect.flatMap(store.rooms, (rows) => {
          seen = fingerprint
          return load(rows, since)
        }))
    })
    // The periodic look reads every row only when something changed: with
    // 100,000 rooms a full read every few seconds costs more CPU and memory
    // than all else an idle process does.
    const refreshIfChanged = Effect.flatMap(store.fingerprint, (fingerprint) => (fingerprint === seen ? Effect.void : refresh))
    const refreshed = (why: string, how: Effect.Effect<void, DatabaseUnavailable> = refresh) =>
      how.pipe(
        Effect.catchTag("DatabaseUnavailable", outage.report),
        Effect.catchCause((cause) => Effect.logWarning("Room catalog refresh failed", cause).pipe(Effect.annotateLogs({ why })))
      )
    yield* refresh
    yield* refreshed("periodic", refreshIfChanged).pipe(Effect.delay(catalogRefreshInterval), Effect.forever, Effect.forkScoped)
    if (notices.shared) {
      yield* (yield* notices.subscribe).pipe(
        Stream.filter((n) => n._tag === "Resync" || n.topic === topic),
        Stream.runForEach(() => refreshed("another process changed it")),
        Effect.forkScoped
      )
    }

    const written = (room: RoomId) => (r: CatalogRow | RoomWriteProblem): Effect.Effect<CatalogRow | RoomWriteProblem, DatabaseUnavailable> =>
      typeof r === "string" ? Effect.succeed(r) : apply(room, r).pipe(Effect.andThen(notices.send(topic, { room })), Effect.as(r))

    const forget = (removed: ReadonlyArray<RoomId>) =>
      Effect.forEach(removed, (room) => Effect.andThen(apply(room, undefined), notices.send(topic, { room })), { discard: true })

    // A join code collision is retried with a new code.
    const create = (room: NewRoom): Effect.Effect<CatalogRow | RoomWriteProblem, DatabaseUnavailable> =>
      Effect.flatMap(store.create({ ...room, joinCode: newJoinCode() }), (r) => (r === "join code taken" ? create(room) : Effect.succeed(r)))

    return {
      find: (room) => Effect.sync(() => rooms.get(room)),
      findByJoinCode: (code) => Effect.sync(() => joinCodes.get(code.toUpperCase())),
      all: Effect.sync(() => [...rooms.values()]),
      enabled: Effect.sync(() =>
        (enabledSorted ??= [...rooms.values()].filter((r) => !r.disabled).sort((a, b) => byName.compare(a.name, b.name) || byName.compare(a.room, b.room)))
      ),
      refresh,
      create: (room) => Effect.flatMap(create(room), written(room.room)),
      update: (room, patch) => Effect.flatMap(store.update(room, patch), written(room)),
      remove: (room) => Effect.tap(store.remove(room), (removed) => (removed ? forget([room]) : Effect.void)),
      removeIdleMeetings: (before) => Effect.tap(store.removeIdleMeetings(before), forget),
      changes: Effect.map(PubSub.subscribe(changed), Stream.fromSubscription)
    }
  }))
}

const topic = "catalog"
