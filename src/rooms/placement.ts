// Placement: the gateways' current loads, as the pure balancer sees them,
// and its choice for a room. It writes nothing: the room's own step commits
// the assignment, inside the same transaction that holds the deployment-wide
// placement lock (GatewayStore.exclusively), so rooms placed at the same time
// in any process see each other's load. Logs and counts every decision.
import { Context, Effect, Layer } from "effect"
import { type GatewayLoad, type PlacementRequest, roomLoad, selectGateway, type Selection } from "../balancer/select.ts"
import { Config } from "../config.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import { countAssignment } from "../metrics/events.ts"

export interface PlacementInput extends PlacementRequest {
  /** The room's row id: its own assignment is left out of the loads (a room being moved). */
  readonly rowId: number
}

export class Placement extends Context.Service<Placement, {
  /** Every gateway of AVAILABLE_JANUS_SERVERS with its load; `exceptRowId`'s own assignment left out. */
  readonly loads: (exceptRowId?: number) => Effect.Effect<ReadonlyArray<GatewayLoad>, DatabaseUnavailable>
  /** The balancer's choice for a room, from the loads read now (call it holding the placement lock). */
  readonly choose: (request: PlacementInput) => Effect.Effect<Selection, DatabaseUnavailable>
  /** Logs and counts a decision once it is committed. */
  readonly report: (request: PlacementRequest, selection: Selection) => Effect.Effect<void>
}>()("room-orchestrator/Placement") {
  static readonly layer = Layer.effect(Placement, Effect.gen(function*() {
    const config = yield* Config
    const gateways = yield* GatewayStore
    const policy = {
      available: config.availableJanusServers,
      avgRoomOccupancy: config.avgRoomOccupancy,
      regions: config.serverRegions,
      pinned: config.serverRooms,
      strategy: config.balanceStrategy
    }

    // Gateways named in AVAILABLE_JANUS_SERVERS but not registered count as
    // enabled, of default capacity, status unknown.
    const loads = (exceptRowId?: number) => Effect.gen(function*() {
      const { gateways: rows, assigned } = yield* gateways.placementView(exceptRowId)
      const load = new Map<string, number>()
      for (const a of assigned) load.set(a.gateway, (load.get(a.gateway) ?? 0) + a.rooms * roomLoad(a.users, config.avgRoomOccupancy))
      const rowOf = new Map(rows.map((r) => [r.name, r]))
      return config.availableJanusServers.map((name): GatewayLoad => {
        const row = rowOf.get(name)
        return {
          name,
          capacity: row?.capacity ?? config.maxServerCapacity,
          load: load.get(name) ?? 0,
          enabled: row?.enabled ?? true,
          draining: row?.draining ?? false,
          online: row?.online ?? undefined,
          region: row?.region ?? undefined
        }
      })
    })

    const choose = (request: PlacementInput) =>
      Effect.map(loads(request.rowId), (l) => selectGateway(l, policy, request)).pipe(Effect.withSpan("Placement.choose", undefined, { captureStackTrace: false }))

    const report = (request: PlacementRequest, selection: Selection) => {
      if (selection._tag === "None") return Effect.void
      const choice = selection.choice
      const overflow = choice.stage === "overflow"
      const line = overflow
        ? Effect.logWarning("Assigned room to server over capacity (overflow)")
        : Effect.logInfo("Assigned room to server")
      return line.pipe(
        Effect.annotateLogs({
          room_id: request.room,
          gateway_name: choice.gateway,
          country_code: request.country ?? "",
          regional_match: choice.regionalMatch,
          stage: choice.stage
        }),
        Effect.andThen(countAssignment(choice.stage, request.country ? (choice.regionalMatch ? "matched" : "unmatched") : undefined))
      )
    }

    return { loads, choose, report }
  }))
}
