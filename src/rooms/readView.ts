// Sticky answers without the room's actor. Each process keeps, from the
// room change feed (every room's committed steps, from every process), the
// rooms that are `assigned` with at least one session and their gateway. A
// request for such a room is answered from here; every other request (an
// empty reservation, a draining room — whose request cancels its drain —,
// an idle or assigning one) goes to the room's actor, and so does anything
// that changes membership.
//
// Why an answer from here is one the machine would give:
// - Such a room answers `SERVER.REQUESTED` with its gateway and changes
//   nothing (machines/step.ts, `answersStickyAlone`).
// - It leaves that state only through its own step: the last leave takes it
//   to `draining`, which keeps the same gateway for DRAIN_GRACE; a failover
//   takes it to `assigning`, and only after its gateway was offline for
//   FAILOVER_WAIT_TIME. So its gateway changes at the earliest DRAIN_GRACE
//   after the step that leaves the state, or when the old gateway is down.
//   (An operator's reassign moves a room in use at once, on purpose: its
//   users stay on the old gateway until they reconnect, and for the feed's
//   lag a request here answers as one made just before the move.)
// - An entry is a lease: trusted for `viewLease` after the feed (or the
//   actor's own answer) last confirmed it, and `viewLease` is at most a
//   quarter of DRAIN_GRACE. An answer given within the lease names the
//   gateway the room had at most `viewLease` ago; since then the room can
//   only have started draining on that same gateway (which it keeps for
//   longer than the lease), or failed over off a dead one (the client's
//   connection fails and it asks again). The feed's own lag (milliseconds)
//   counts inside the lease.
// - Whatever may have made the feed lose changes drops the whole view: a
//   gap in the feed's positions (a slow reader, notices missed while the
//   database connection was away), or this process's event loop stalled
//   (src/rooms/stalls.ts: a long GC, a frozen VM, SIGSTOP) — then
//   changes may be waiting unread while requests are served, so nothing
//   read before is trusted. Leases count on the monotonic clock: a paused
//   process finds them expired, and wall-clock skew between hosts is moot.
import { Context, Effect, Layer, Stream } from "effect"
import { answersStickyAlone } from "../../machines/step.ts"
import { AppConfig } from "../config.ts"
import type { RoomId } from "../domain/room.ts"
import { RoomChanges } from "./changes.ts"
import { EventLoopStalls } from "./stalls.ts"

/** How long an entry is trusted after it was confirmed: a quarter of DRAIN_GRACE, at most 5 s. */
export const viewLease = (drainGrace: number) => Math.min(5_000, Math.floor(drainGrace / 4))

/** What the view knew of a room when its actor was asked: an answer confirms an entry only if nothing changed since. */
export interface ViewTicket {
  readonly drops: number
  readonly change: number
}

export class RoomReadView extends Context.Service<RoomReadView, {
  /** The room's gateway when the view holds it `assigned` with users, confirmed within the lease. */
  readonly sticky: (room: RoomId) => string | undefined
  /** Taken before asking the room's actor, handed back with its answer. */
  readonly ticket: (room: RoomId) => ViewTicket
  /**
   * The room's actor answered `gateway` with `sessions` users (its state was
   * `assigned`). Ignored when the feed brought a change of the room, or the
   * view was dropped, since the ticket was taken: the answer may be older.
   */
  readonly confirm: (room: RoomId, gateway: string, sessions: number, ticket: ViewTicket) => void
  /** How many times the whole view was dropped (a gap in the feed, a stall). */
  readonly drops: () => number
}>()("room-orchestrator/RoomReadView") {
  static readonly layer = Layer.effect(RoomReadView, Effect.gen(function*() {
    const config = yield* AppConfig
    const stalls = yield* EventLoopStalls
    const lease = viewLease(config.drainGrace)
    const entries = new Map<RoomId, { readonly gateway: string; readonly at: number }>()
    // The feed position of each room's last change (a room that never changed here: 0).
    const changedAt = new Map<RoomId, number>()
    let dropped = 0
    const dropAll = () => {
      entries.clear()
      dropped++
    }
    // Whatever was read before a stall is dropped before anything is answered after it.
    let stallsSeen = stalls.seen()
    const afterStalls = () => {
      const seen = stalls.seen()
      if (seen !== stallsSeen) {
        stallsSeen = seen
        dropAll()
      }
    }

    const apply = (room: RoomId, gateway: string | null, assigned: boolean) => {
      if (assigned && gateway !== null) entries.set(room, { gateway, at: performance.now() })
      else entries.delete(room)
    }

    let last: number | undefined
    yield* (yield* (yield* RoomChanges).subscribe).pipe(
      Stream.runForEach(({ position, change }) =>
        Effect.sync(() => {
          afterStalls()
          if (last !== undefined && position !== last + 1) dropAll()
          last = position
          changedAt.set(change.room, position)
          apply(change.room, change.gateway, answersStickyAlone(change.state, change.sessions))
        })),
      Effect.forkScoped
    )

    return {
      sticky: (room) => {
        if (lease <= 0) return undefined
        afterStalls()
        const entry = entries.get(room)
        if (entry === undefined) return undefined
        if (performance.now() - entry.at >= lease) return undefined
        return entry.gateway
      },
      ticket: (room) => {
        afterStalls()
        return { drops: dropped, change: changedAt.get(room) ?? 0 }
      },
      confirm: (room, gateway, sessions, ticket) => {
        afterStalls()
        if (ticket.drops !== dropped || ticket.change !== (changedAt.get(room) ?? 0)) return
        apply(room, gateway, answersStickyAlone("assigned", sessions))
      },
      drops: () => {
        afterStalls()
        return dropped
      }
    }
  }))
}
