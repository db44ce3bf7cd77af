// Placement: the gateways' load counters, as the pure balancer sees them,
// and its choice for a room. It writes nothing: the room's own step commits
// the assignment and reserves the room's load with a conditional update of
// the chosen gateway's counter (RoomStore.write); when another room filled
// the gateway meanwhile, the room chooses again from fresh counters. No
// deployment-wide lock. Logs and counts every decision.
import { Context, Effect, Layer } from "effect"
import { type Choice, type GatewayLoad, type PlacementRequest, rankGateways, roomLoad, type Selection } from "../balancer/select.ts"
import { AppConfig } from "../config.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import { countAssignment } from "../metrics/events.ts"

export interface PlacementInput extends PlacementRequest {
  /** The room's row id: its own assignment is left out of the loads (a room being moved). */
  readonly rowId: number
}

/**
 * A gateway the room may go to, and the load its counter may reach with the
 * room on it: its capacity when the balancer took it for having room, the
 * load it had when read (plus the room) when it took it as the least loaded
 * overflow, none for a pinned room (whatever its load).
 */
export interface Candidate {
  readonly choice: Choice
  readonly bound: number | undefined
}

export class Placement extends Context.Service<Placement, {
  /** Every gateway of AVAILABLE_JANUS_SERVERS with its load; `exceptRowId`'s own assignment left out. */
  readonly loads: (exceptRowId?: number) => Effect.Effect<ReadonlyArray<GatewayLoad>, DatabaseUnavailable>
  /**
   * Every gateway the balancer would take for a room, most preferred first,
   * from the counters read now, each with the bound its reservation must
   * keep (see `Candidate`); empty when none is online.
   */
  readonly candidates: (request: PlacementInput, options: { readonly withPending: boolean }) => Effect.Effect<ReadonlyArray<Candidate>, DatabaseUnavailable>
  /**
   * Runs `write` (a placement's commit on `gateway`) with the room's load
   * counted as pending on that gateway in this process meanwhile: the
   * candidates of other rooms placed here at the same time see it
   * (`withPending`), so a burst of new rooms spreads as if placed in turn.
   */
  readonly pending: <A, E, R>(gateway: string, need: number, write: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** The load a room with `users` sessions, holding `expectedSize` while young, adds to its gateway (the balancer's rule). */
  readonly roomLoad: (users: number, expectedSize?: number) => number
  /** Logs and counts a decision once it is committed. */
  readonly report: (request: PlacementRequest, selection: Selection) => Effect.Effect<void>
}>()("room-orchestrator/Placement") {
  static readonly layer = Layer.effect(Placement, Effect.gen(function*() {
    const config = yield* AppConfig
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
    const pendingLoad = new Map<string, number>()

    const loads = (exceptRowId?: number, withPending = false) => Effect.gen(function*() {
      const { gateways: rows, loads: stored } = yield* gateways.placementView(exceptRowId)
      const load = new Map(stored)
      if (withPending) for (const [g, p] of pendingLoad) load.set(g, (load.get(g) ?? 0) + p)
      const rowOf = new Map(rows.map((r) => [r.name, r]))
      return config.availableJanusServers.map((name): GatewayLoad => {
        const row = rowOf.get(name)
        return {
          name,
          capacity: row?.capacity ?? config.maxServerCapacity,
          load: load.get(name) ?? 0,
          enabled: row?.enabled ?? true,
          cordoned: row?.cordoned ?? false,
          online: row?.online ?? undefined,
          region: row?.region ?? undefined
        }
      })
    })

    // An overflow takes the least loaded gateway as read: its reservation
    // holds only if nobody added to that gateway since, so overflowing rooms
    // placed at the same time spread as if placed one after the other.
    const candidates = (request: PlacementInput, options: { readonly withPending: boolean }) =>
      Effect.map(loads(request.rowId, options.withPending), (l) => {
        const need = roomLoad(request.users, config.avgRoomOccupancy, request.expectedSize)
        const byName = new Map(l.map((g) => [g.name, g]))
        return rankGateways(l, policy, request).map((choice): Candidate => {
          const g = byName.get(choice.gateway)!
          return { choice, bound: choice.stage === "pinned" ? undefined : choice.stage === "overflow" ? g.load + need : g.capacity }
        })
      }).pipe(Effect.withSpan("Placement.choose", undefined, { captureStackTrace: false }))

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

    const pending = <A, E, R>(gateway: string, need: number, write: Effect.Effect<A, E, R>) =>
      Effect.acquireUseRelease(
        Effect.sync(() => void pendingLoad.set(gateway, (pendingLoad.get(gateway) ?? 0) + need)),
        () => write,
        () => Effect.sync(() => {
          const left = (pendingLoad.get(gateway) ?? 0) - need
          if (left > 0) pendingLoad.set(gateway, left)
          else pendingLoad.delete(gateway)
        })
      )

    return { loads: (exceptRowId) => loads(exceptRowId), candidates, pending, report, roomLoad: (users, expectedSize) => roomLoad(users, config.avgRoomOccupancy, expectedSize) }
  }))
}
