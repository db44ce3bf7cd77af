// Handlers of the inspection endpoints: thin reads of the stored machines
// (any process answers the same), the machine definition and gateway loads
// (src/gateways/loads.ts, the same view GET /servers answers).
import { Effect, Layer } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { roomMachine } from "../../machines/room.machine.ts"
import { AppConfig } from "../config.ts"
import { GatewayLoads, gatewayLoadView } from "../gateways/loads.ts"
import { InspectStore } from "../db/inspectStore.ts"
import { machineGraph } from "../inspect/machineGraph.ts"
import { roomIdOut } from "../domain/room.ts"
import { graphView, machineView, transitionView } from "../inspect/views.ts"
import { Api } from "./api.ts"
import { asHttpError } from "./httpErrors.ts"
import { NotFound } from "../domain/wireErrors.ts"
import { defaultHistory, defaultPage } from "./inspectApi.ts"

export const InspectHandlers = HttpApiBuilder.group(Api, "inspect", Effect.fn(function*(handlers) {
  const store = yield* InspectStore
  const loads = yield* GatewayLoads
  const config = yield* AppConfig
  const definition = graphView(machineGraph(roomMachine))

  return handlers
    .handle("machineDefinition", () => Effect.succeed(definition))
    .handle("listMachines", ({ query }) =>
      Effect.gen(function*() {
        const limit = query.limit ?? defaultPage
        const now = new Date()
        const page = yield* store.machines({
          initial: definition.initial,
          state: query.state,
          gateway: query.gateway,
          room: query.room,
          search: query.q === "" ? undefined : query.q,
          after: query.cursor === undefined ? 0 : Number(query.cursor),
          limit
        })
        const counts = yield* store.counts(definition.initial)
        const last = page.rows.at(-1)
        return {
          now: now.toISOString(),
          counts,
          rooms: page.rows.map(machineView(config.roomIdsAsStrings)),
          next_cursor: page.more && last !== undefined ? String(last.id) : null
        }
      }).pipe(asHttpError))
    .handle("roomHistory", ({ query }) =>
      store.history(query.room, query.limit ?? defaultHistory).pipe(
        asHttpError,
        Effect.flatMap((rows) =>
          rows === undefined
            ? Effect.fail(new NotFound({ error: `room ${query.room} not found` }))
            : Effect.succeed({ room: roomIdOut(query.room, config.roomIdsAsStrings), history: rows.map(transitionView) })
        )
      ))
    .handle("gatewayLoads", () => asHttpError(Effect.map(loads.current, (list) => list.map(gatewayLoadView))))
})).pipe(Layer.provide(InspectStore.layer))
