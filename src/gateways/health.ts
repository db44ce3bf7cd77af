// Gateway health from their status messages: offline for FAILOVER_WAIT_TIME
// moves every room assigned to the gateway (each room's entity asks the
// balancer again, keeping its region); back online makes it eligible for new
// rooms, and live rooms stay where they are.
import { Context, Duration, Effect, FiberMap, Layer, Metric } from "effect"
import { Config } from "../config.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import { Rooms } from "../rooms/rooms.ts"

export const failoverCounter = Metric.counter("room_failovers_total", {
  description: "Rooms moved off a gateway that went down"
})

export class GatewayHealth extends Context.Service<GatewayHealth, {
  /** A status message: false when the gateway is not registered. */
  readonly report: (gateway: string, online: boolean) => Effect.Effect<boolean>
}>()("room-orchestrator/GatewayHealth") {
  static readonly layer = Layer.effect(GatewayHealth, Effect.gen(function*() {
    const config = yield* Config
    const gateways = yield* GatewayStore
    const rooms = yield* Rooms
    const pending = yield* FiberMap.make<string>()

    const moveRooms = (gateway: string) =>
      Effect.gen(function*() {
        const assigned = yield* gateways.roomsOn(gateway)
        const moved = yield* Effect.forEach(assigned, (room) => Effect.option(rooms.gatewayDown(room, gateway)), { concurrency: 16 })
        const count = moved.filter((m) => m._tag === "Some" && m.value.gateway !== gateway).length
        yield* Metric.update(failoverCounter, count)
        yield* Effect.logWarning("Moved rooms off a gateway that went down").pipe(
          Effect.annotateLogs({ gateway_name: gateway, rooms: count, assigned: assigned.length })
        )
      })

    const report = (gateway: string, online: boolean) =>
      Effect.gen(function*() {
        const known = yield* gateways.setOnline(gateway, online)
        if (!known) {
          yield* Effect.logWarning("Status of an unknown gateway ignored").pipe(Effect.annotateLogs({ gateway_name: gateway }))
          return false
        }
        if (online) {
          yield* FiberMap.remove(pending, gateway)
          yield* Effect.logInfo("Gateway online").pipe(Effect.annotateLogs({ gateway_name: gateway }))
        } else {
          yield* Effect.logWarning("Gateway offline").pipe(
            Effect.annotateLogs({ gateway_name: gateway, failover_in: Duration.format(Duration.millis(config.failoverWaitTime)) })
          )
          yield* FiberMap.run(
            pending,
            gateway,
            Effect.sleep(Duration.millis(config.failoverWaitTime)).pipe(Effect.andThen(moveRooms(gateway))),
            { onlyIfMissing: true }
          )
        }
        return true
      })

    return { report }
  }))
}
