// Seed-003 rooms: created with a generated id (like seed 003's createId())
// and a unique join code, found by id or code (any case), listed with their
// live users. They are rooms of the catalog like any other.
import { createId } from "@paralleldrive/cuid2"
import { Context, Effect, Layer } from "effect"
import { leastUsedDefault } from "../balancer/defaultGateway.ts"
import { AppConfig } from "../config.ts"
import type { CatalogRow } from "../db/catalogStore.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import { SessionStore } from "../db/sessionStore.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import { joinCodePattern } from "../domain/joinCode.ts"
import type { RoomId } from "../domain/room.ts"
import { RoomCatalog } from "../rooms/catalog.ts"
import { memberView, type RoomWithUsers, roomView } from "./views.ts"

export class Meetings extends Context.Service<Meetings, {
  /** A new room named `name`; its default gateway is the usable one that serves the fewest rooms. */
  readonly create: (name: string) => Effect.Effect<CatalogRow, DatabaseUnavailable>
  /** An enabled room by id; undefined when unknown or disabled. */
  readonly find: (room: RoomId) => Effect.Effect<CatalogRow | undefined>
  /** An enabled room by join code, in any case. */
  readonly findByCode: (code: string) => Effect.Effect<CatalogRow | undefined>
  /** The room with its live users, from the sessions table. */
  readonly withUsers: (room: CatalogRow) => Effect.Effect<RoomWithUsers, DatabaseUnavailable>
}>()("room-orchestrator/Meetings") {
  static readonly layer = Layer.effect(Meetings, Effect.gen(function*() {
    const config = yield* AppConfig
    const catalog = yield* RoomCatalog
    const gateways = yield* GatewayStore
    const sessions = yield* SessionStore

    const defaultGateway = Effect.gen(function*() {
      const usable = new Set((yield* gateways.list).filter((g) => g.enabled && !g.cordoned).map((g) => g.name))
      const rooms = yield* catalog.all
      return leastUsedDefault(config.availableJanusServers, usable, rooms.map((r) => r.defaultGateway))
    })

    // A generated id that is taken (never seen, but cheap to handle) is drawn
    // again, as is the default gateway if it vanished meanwhile.
    const create = (name: string): Effect.Effect<CatalogRow, DatabaseUnavailable> =>
      Effect.gen(function*() {
        const written = yield* catalog.create({
          room: createId(),
          name,
          defaultGateway: yield* defaultGateway,
          region: null,
          disabled: false,
          extra: null,
          requireAccessBeforeJoining: false,
          kind: "meeting"
        })
        if (typeof written !== "string") return written
        return yield* create(name)
      })

    const enabled = (row: CatalogRow | undefined) => (row === undefined || row.disabled ? undefined : row)

    return {
      create,
      find: (room) => Effect.map(catalog.find(room), enabled),
      findByCode: (code) =>
        joinCodePattern.test(code.toUpperCase()) ? Effect.map(catalog.findByJoinCode(code), enabled) : Effect.succeed(undefined),
      withUsers: (room) =>
        Effect.map(sessions.live(room.room), (rows) => ({ ...roomView(room), users: rows.map(memberView) }))
    }
  }))
}
