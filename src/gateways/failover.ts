// The failover sweep: every room assigned to a gateway that has been offline
// for FAILOVER_WAIT_TIME is moved (each room's entity asks the balancer
// again, keeping its region). It reads the recorded status, so one sweep in
// the whole deployment (a cluster singleton) serves every process, and a
// restart during the wait does not lose the failover. Only a sweep that
// moves rooms is traced.
import { Duration, Effect } from "effect"
import { Singleton } from "effect/cluster"
import { AppConfig } from "../config.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import { repeatedSweep } from "../db/databaseOutage.ts"
import { countFailovers } from "../metrics/events.ts"
import type { RoomId } from "../domain/room.ts"
import { Rooms } from "../rooms/roomClient.ts"
import { sweepAction, untraced } from "../tracing.ts"

/** How often the sweep looks: the failover happens at most this long after FAILOVER_WAIT_TIME. */
export const failoverSweepInterval = Duration.millis(500)

/** Rooms that could not be moved are tried again on every sweep; said at most this often. */
const failureReportInterval = 30_000

export const makeFailover = Effect.gen(function*() {
  const config = yield* AppConfig
  const gateways = yield* GatewayStore
  const rooms = yield* Rooms
  const reported = new Map<string, number>()

  const move = (gateway: string, assigned: ReadonlyArray<RoomId>) =>
    Effect.gen(function*() {
      const results = yield* Effect.forEach(assigned, (room) => Effect.option(rooms.gatewayDown(room, gateway)), { concurrency: 16 })
      const moved = results.filter((m) => m._tag === "Some" && m.value.gateway !== gateway).length
      const stuck = assigned.length - moved
      yield* countFailovers(moved)
      const now = Date.now()
      if (moved === 0 && now - (reported.get(gateway) ?? 0) < failureReportInterval) return
      reported.set(gateway, now)
      yield* Effect.logWarning("Moved rooms off a gateway that went down").pipe(
        Effect.annotateLogs({ gateway_name: gateway, rooms: moved, assigned: assigned.length, not_moved_yet: stuck })
      )
    }).pipe(sweepAction("FailoverSweep.move", { "gateway.name": gateway, rooms: assigned.length }))

  // Only a gateway down with rooms on it is worth a trace.
  const downWithRooms = Effect.flatMap(gateways.downSince(config.failoverWaitTime), (down) =>
    Effect.forEach(down, (gateway) => Effect.map(gateways.roomsOn(gateway), (assigned) => ({ gateway, assigned }))))

  return Effect.gen(function*() {
    for (const { gateway, assigned } of yield* untraced(downWithRooms)) {
      if (assigned.length > 0) yield* move(gateway, assigned)
    }
  })
})

export const FailoverSweep = Singleton.make("room-orchestrator/FailoverSweep", Effect.gen(function*() {
  const sweep = yield* makeFailover
  yield* repeatedSweep("Failover sweep", sweep, failoverSweepInterval)
}))
