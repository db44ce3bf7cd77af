// The deployment gauges' source, fed by what they measure: gateway loads
// (./loads.ts) and rooms per state read from Postgres when /metrics is
// scraped (at most once a second), so they are the same whichever process
// is scraped. A database that is away or slow (over
// 2 s) leaves the last values in place (an outage is reported as every
// outage is).
import { Duration, Effect, Layer } from "effect"
import { roomMachine } from "../../machines/room.machine.ts"
import { InspectStore } from "../db/inspectStore.ts"
import { DatabaseOutage } from "../db/databaseOutage.ts"
import { CurrentMetrics, type DeploymentSample } from "../metrics/families.ts"
import { GatewayLoads } from "./loads.ts"

/** Rooms with no stored machine yet are in the machine's initial state. */
const initialState = String(roomMachine.config.initial)
const readTimeout = Duration.seconds(2)

export const DeploymentGauges = Layer.effectDiscard(Effect.gen(function*() {
  const families = yield* CurrentMetrics
  const loads = yield* GatewayLoads
  const store = yield* InspectStore
  const outage = yield* DatabaseOutage
  const context = yield* Effect.context<never>()

  const read = Effect.all([loads.current, store.counts(initialState)]).pipe(
    Effect.map(([gateways, roomsByState]): DeploymentSample => ({
      gateways: gateways.map((g) => ({ name: g.name, load: g.load, reserved: g.reserved, capacity: g.capacity, rooms: g.rooms, users: g.users, online: g.online !== false })),
      roomsByState
    })),
    Effect.catchTag("DatabaseUnavailable", (e) => Effect.as(outage.report(e), undefined)),
    // A scrape never waits long on a slow database: the last values serve.
    Effect.timeoutOrElse({ duration: readTimeout, orElse: () => Effect.succeed(undefined) })
  )
  const detach = families.observeDeployment(() => Effect.runPromiseWith(context)(read))
  yield* Effect.addFinalizer(() => Effect.sync(detach))
})).pipe(Layer.provide(InspectStore.layer))
