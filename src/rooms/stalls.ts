// Stalls of this process's event loop: a long GC, a frozen VM, SIGSTOP.
// While a process is stopped its shard locks may lapse and other processes
// take its rooms over and change them; when it runs again it still believes
// it hosts them until its next lock refresh says otherwise. So after a stall
// nothing remembered is trusted: each room reloads from storage on its next
// message (src/rooms/roomEntity.ts) and the read view drops itself
// (src/rooms/readView.ts). A pause shorter than `stallBound` cannot lose a
// lock: locks are refreshed every CLUSTER_LOCK_REFRESH (1 s) and expire after
// CLUSTER_LOCK_EXPIRATION (5 s), and 1 s + 1 s leaves a margin of 3 s.
import { Context, Effect, Layer } from "effect"

/** A pause of the event loop longer than this counts as a stall. */
export const stallBound = 1_000

const tick = 100

export class EventLoopStalls extends Context.Service<EventLoopStalls, {
  /**
   * How many stalls this process has seen. A stall in progress (the beat
   * overdue now) counts at once, so a caller that compares two readings
   * never trusts memory across one.
   */
  readonly seen: () => number
}>()("room-orchestrator/EventLoopStalls") {
  static readonly layer = Layer.effect(EventLoopStalls, Effect.gen(function*() {
    const run = Effect.runForkWith(yield* Effect.context())
    let beat = performance.now()
    let stalls = 0
    const note = (now: number) => {
      if (now - beat > stallBound) {
        stalls++
        const ms = Math.round(now - beat)
        // outside any fiber (a timer or a caller's check): one line per stall
        run(Effect.logWarning("The process stalled: rooms reload from storage, the read view is dropped").pipe(
          Effect.annotateLogs({ stalled_ms: ms })
        ))
      }
      beat = now
    }
    // A plain interval, not a fiber: after a pause Node runs due timers
    // before it reads the requests that waited, so the stall is counted
    // before any of them is served.
    yield* Effect.acquireRelease(
      Effect.sync(() => setInterval(() => note(performance.now()), tick)),
      (interval) => Effect.sync(() => clearInterval(interval))
    )
    return {
      seen: () => {
        note(performance.now())
        return stalls
      }
    }
  }))
}
