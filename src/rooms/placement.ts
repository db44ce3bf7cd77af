// Placement: runs the pure balancer over the gateways' current load and logs
// the decision. (The Room entity calls it while its room is `assigning`.)
import { Context, Effect, Layer } from "effect"
import { type Choice, type GatewayLoad, type PlacementRequest, selectGateway } from "../balancer/select.ts"
import { Config } from "../config.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import { NoGatewayAvailable } from "./entity.ts"

export class Placement extends Context.Service<Placement, {
  readonly place: (request: PlacementRequest) => Effect.Effect<Choice, NoGatewayAvailable>
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
    const loads = Effect.gen(function*() {
      const [rows, use] = yield* Effect.all([gateways.list, gateways.use(config.avgRoomOccupancy)])
      const loadOf = new Map(use.map((u) => [u.gateway, u.load]))
      const rowOf = new Map(rows.map((r) => [r.name, r]))
      return config.availableJanusServers.map((name): GatewayLoad => {
        const row = rowOf.get(name)
        return {
          name,
          capacity: row?.capacity ?? config.maxServerCapacity,
          load: loadOf.get(name) ?? 0,
          enabled: row?.enabled ?? true,
          draining: row?.draining ?? false,
          online: row?.online ?? undefined,
          region: row?.region ?? undefined
        }
      })
    })

    const place = Effect.fn("Placement.place")(function*(request: PlacementRequest) {
      const selection = selectGateway(yield* loads, policy, request)
      if (selection._tag === "None") {
        yield* Effect.logWarning("No gateway available for room").pipe(Effect.annotateLogs({ room_id: request.room }))
        return yield* new NoGatewayAvailable({ room: request.room, reason: selection.reason })
      }
      const { choice } = selection
      const log = choice.stage === "overflow"
        ? Effect.logWarning("Assigned room to server over capacity (overflow)")
        : Effect.logInfo("Assigned room to server")
      yield* log.pipe(Effect.annotateLogs({
        room_id: request.room,
        gateway_name: choice.gateway,
        country_code: request.country ?? "",
        regional_match: choice.regionalMatch,
        stage: choice.stage
      }))
      return choice
    })

    return { place }
  }))
}
