// Gateway health from their status messages, recorded for the balancer:
// an offline gateway takes no new rooms, back online it does again (live
// rooms stay where they are). Moving the rooms of a gateway that stays down
// is the failover sweep's work (failover.ts). Every process hears every
// status message; the change is logged once, by the one that recorded it.
import { Context, Effect, Layer } from "effect"
import { AppConfig } from "../config.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"
import { formatGoDuration } from "../duration.ts"

export class GatewayHealth extends Context.Service<GatewayHealth, {
  /** A status message (null: the retained status was cleared, so it is unknown again); false when the gateway is not registered. */
  readonly report: (gateway: string, online: boolean | null) => Effect.Effect<boolean, DatabaseUnavailable>
}>()("room-orchestrator/GatewayHealth") {
  static readonly layer = Layer.effect(GatewayHealth, Effect.gen(function*() {
    const config = yield* AppConfig
    const gateways = yield* GatewayStore

    const report = (gateway: string, online: boolean | null) =>
      Effect.gen(function*() {
        const recorded = yield* gateways.setOnline(gateway, online)
        const fields = { gateway_name: gateway }
        switch (recorded) {
          case "unknown":
            yield* Effect.logWarning("Status of an unknown gateway ignored").pipe(Effect.annotateLogs(fields))
            return false
          case "unchanged":
            return true
          case "changed":
            yield* online === null
              ? Effect.logInfo("Gateway status cleared").pipe(Effect.annotateLogs(fields))
              : online
              ? Effect.logInfo("Gateway online").pipe(Effect.annotateLogs(fields))
              : Effect.logWarning("Gateway offline").pipe(
                Effect.annotateLogs({ ...fields, failover_in: formatGoDuration(config.failoverWaitTime) })
              )
            return true
        }
      })

    return { report }
  }))
}
