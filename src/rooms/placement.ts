// Placement: reads the gateways' current load, lets the pure balancer choose,
// and writes the assignment, all under the deployment-wide placement lock:
// rooms placed at the same time, in this process or another, see each
// other's load, so none overcommits a gateway while another had room and
// least-loaded stays even. Logs and counts every decision.
import { Context, Effect, Layer, Metric } from "effect"
import { type Choice, type GatewayLoad, type PlacementRequest, selectGateway } from "../balancer/select.ts"
import { Config } from "../config.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import { NoGatewayAvailable } from "./entity.ts"

export const assignmentsCounter = Metric.counter("room_assignments_total", {
  description: "Rooms assigned to a gateway by the balancer, by stage"
})
export const overflowCounter = Metric.counter("room_assignments_overflow_total", {
  description: "Rooms assigned to a gateway already at capacity (no gateway had room)"
})

export interface PlacementInput extends PlacementRequest {
  /** The room's row id, for its assignment. */
  readonly roomId: number
}

export class Placement extends Context.Service<Placement, {
  readonly place: (request: PlacementInput) => Effect.Effect<Choice, NoGatewayAvailable>
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
    const loads = (exceptRoom: number) => Effect.gen(function*() {
      const rows = yield* gateways.list
      const use = yield* gateways.use(config.avgRoomOccupancy, exceptRoom)
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

    const place = Effect.fn("Placement.place")(function*(request: PlacementInput) {
      const selection = yield* gateways.exclusively(Effect.gen(function*() {
        const selection = selectGateway(yield* loads(request.roomId), policy, request)
        if (selection._tag === "Chosen") {
          yield* gateways.assign(request.roomId, selection.choice.gateway, selection.choice.region ?? null, request.users)
        }
        return selection
      }))
      if (selection._tag === "None") {
        yield* Effect.logWarning("No gateway available for room").pipe(Effect.annotateLogs({ room_id: request.room }))
        return yield* new NoGatewayAvailable({ room: request.room, reason: selection.reason })
      }
      yield* logChoice(request, selection.choice)
      return selection.choice
    })

    return { place }
  }))
}

const logChoice = (request: PlacementRequest, choice: Choice) => {
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
    Effect.andThen(Metric.update(Metric.withAttributes(assignmentsCounter, { stage: choice.stage }), 1)),
    Effect.andThen(overflow ? Metric.update(overflowCounter, 1) : Effect.void)
  )
}
