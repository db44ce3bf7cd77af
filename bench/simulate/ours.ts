// Our service in the simulation: each room is the real room machine, stepped
// by the same interpreter as the service (machines/step.ts), and placed by the
// real balancer. Placement is atomic, as under the service's placement lock:
// loads are always current.
import type { RoomEvent } from "../../machines/room.machine.ts"
import type { GatewayRequest } from "../../machines/step.ts"
import { type GatewayLoad, type Policy, roomLoad, selectGateway } from "../../src/balancer/select.ts"
import type { BalanceStrategy } from "../../src/config.ts"
import { placementReserve, reliableSize, reservedSize } from "../../machines/expectedSize.ts"
import { configuredMachine, newSnapshot, type RoomSnapshot, step, type TimerEvent } from "../../machines/step.ts"
import { makeAgenda } from "./agenda.ts"
import { makeTally, type Moved, type Placements, type Setup } from "./strategies.ts"

// The service's defaults (DRAIN_GRACE, ASSIGNMENT_TTL).
const drainGrace = 30_000
const assignmentTtl = 120_000

/** `expectedSizes: false`: rooms never learn an expected size (the service before it). */
export const oursPlacements = (setup: Setup, strategy: BalanceStrategy, options: { readonly expectedSizes: boolean } = { expectedSizes: true }): Placements => {
  const machine = configuredMachine({ drainGrace, assignmentTtl, maxServerCapacity: options.expectedSizes ? setup.capacity : 0 })
  const policy: Policy = {
    available: setup.gateways,
    avgRoomOccupancy: setup.avgRoomOccupancy,
    regions: setup.regions,
    pinned: new Map(),
    strategy
  }
  const rooms = new Map<number, RoomSnapshot>()
  /** The assignment rows (room → gateway), written as the machine records and releases them. */
  const assigned = new Map<number, string>()
  const online = new Map(setup.gateways.map((g) => [g, true]))
  // Every deadline the machines set; superseded ones are skipped when they come up.
  const timers = makeAgenda<{ readonly room: number; readonly type: string }>()
  let placedByLastStep = false
  const tally = makeTally()
  /** Each assignment that ended in the measured span with a trusted expectation (one it reserved): what it expected, what it peaked at. */
  const predictions: Array<{ readonly expected: number; readonly peak: number }> = []

  /**
   * The service's load counters: Σ of other rooms' loads as of their last
   * assignment write (a young room's reservation stays counted until its
   * next write, as in the service).
   */
  const written = new Map<number, number>()
  const loads = (exceptRoom: number): ReadonlyArray<GatewayLoad> => {
    const load = new Map<string, number>()
    for (const [room, gateway] of assigned) {
      if (room === exceptRoom) continue
      load.set(gateway, (load.get(gateway) ?? 0) + (written.get(room) ?? 0))
    }
    return setup.gateways.map((name) => ({
      name,
      capacity: setup.capacity,
      load: load.get(name) ?? 0,
      enabled: true,
      cordoned: false,
      online: online.get(name),
      region: undefined
    }))
  }

  // Carries out a step's effects as the Room entity does (src/rooms/roomEntity.ts):
  // write or release the assignment, keep the timers, and when the machine
  // asks, run the balancer and step its answer.
  const apply = (room: number, event: RoomEvent | TimerEvent, now: number): RoomSnapshot => {
    const before = rooms.get(room) ?? newSnapshot(machine, String(room))
    const { snapshot, effects } = step(machine, before, event, now)
    rooms.set(room, snapshot)
    let select: GatewayRequest | undefined
    for (const e of effects) {
      switch (e._tag) {
        case "WriteAssignment":
          assigned.set(room, e.gateway)
          written.set(room, roomLoad(snapshot.context.sessions.length, setup.avgRoomOccupancy, reservedSize(snapshot.context, now)))
          break
        case "ReleaseAssignment":
          assigned.delete(room)
          written.delete(room)
          tally.bump(`released: ${e.reason}`, now)
          if (reliableSize(before.context) > 0 && before.context.peak > 0 && now >= 0) {
            predictions.push({ expected: before.context.expected, peak: before.context.peak })
          }
          break
        case "Schedule":
          timers.add(e.timer.at, { room, type: e.timer.event.type })
          break
        case "SelectGateway":
          select = e.request
          break
      }
    }
    if (select === undefined) return snapshot
    const selection = selectGateway(loads(room), policy, { room: String(room), ...select, expectedSize: placementReserve(snapshot.context) })
    placedByLastStep = selection._tag === "Chosen"
    return apply(
      room,
      selection._tag === "Chosen"
        ? { type: "BALANCER.DONE", gateway: selection.choice.gateway, region: selection.choice.region ?? null }
        : { type: "BALANCER.FAILED", reason: selection.reason },
      now
    )
  }

  const session = (user: number) => String(user)

  return {
    request: (room, country, now) => {
      placedByLastStep = false
      const life = apply(room, { type: "SERVER.REQUESTED", country }, now)
      const gateway = life.context.gateway
      return life.state === "assigned" && gateway !== null ? { gateway, placed: placedByLastStep } : undefined
    },
    joined: (room, user, gateway, now) => {
      apply(room, { type: "SESSION.JOINED", session: session(user), gateway }, now)
    },
    left: (room, user, now) => {
      apply(room, { type: "SESSION.LEFT", session: session(user) }, now)
    },
    // The service's dead-session sweep would close it later; only rooms
    // whose last user quits in the seconds before failover notice the difference.
    lost: (room, user, now) => {
      apply(room, { type: "SESSION.LEFT", session: session(user) }, now)
    },
    gatewayDied: () => {},
    gatewayDown: (gateway, now) => {
      online.set(gateway, false)
      const moved: Array<Moved> = []
      for (const [room, on] of [...assigned]) {
        if (on !== gateway) continue
        const life = apply(room, { type: "GATEWAY.DOWN", gateway }, now)
        const to = life.context.gateway
        if (life.state === "assigned" && to !== null && to !== gateway) {
          moved.push({ room, to })
          tally.bump("rooms moved by failover", now)
        }
      }
      return moved
    },
    gatewayUp: (gateway) => {
      online.set(gateway, true)
    },
    nextWake: () => timers.peek(),
    wake: (now) => {
      for (let at = timers.peek(); at !== undefined && at <= now; at = timers.peek()) {
        const { room, type } = timers.pop()!.item
        const life = rooms.get(room)
        const live = life !== undefined && Object.values(life.timers).some((t) => t.event.type === type && t.at === at)
        if (live) apply(room, { type } as TimerEvent, at)
      }
    },
    counters: tally.counts,
    predictionError: () => {
      if (predictions.length === 0) return undefined
      const users = predictions.reduce((n, p) => n + Math.abs(p.expected - p.peak), 0)
      const peaks = predictions.reduce((n, p) => n + p.peak, 0)
      return { assignments: predictions.length, meanUsers: users / predictions.length, share: users / peaks }
    }
  }
}
