// The gateways' load counters are kept by the rooms' own steps; this checks
// them. Every minute (once per deployment, a cluster singleton) each counter
// is set to the sum of its gateway's assignments while the counters are
// held, and any difference is logged as drift (there should be none: a
// drift means a step changed an assignment without its counter).
import { Duration, Effect } from "effect"
import { Singleton } from "effect/cluster"
import { GatewayStore } from "../db/gatewayStore.ts"
import { repeatedSweep } from "../db/databaseOutage.ts"
import { countCounterDrift } from "../metrics/events.ts"

export const reconcileInterval = Duration.minutes(1)

/** Sets every counter to its gateway's sum; answers how many drifted. */
export const reconcileCounters = Effect.gen(function*() {
  const drifted = yield* (yield* GatewayStore).reconcile
  if (drifted.length === 0) return 0
  yield* countCounterDrift(drifted.length)
  yield* Effect.logWarning("Gateway load counters drifted; set to the sum of their assignments").pipe(
    Effect.annotateLogs({ gateways: drifted.map((d) => `${d.gateway}: counted ${d.counted}, assigned ${d.actual}`).join("; ") })
  )
  return drifted.length
})

export const CounterReconciliation = Singleton.make(
  "room-orchestrator/CounterReconciliation",
  repeatedSweep("Load counter reconciliation", reconcileCounters, reconcileInterval)
)
