// Handlers of the admin endpoints: gateways, rooms and each room's machine.
// Every change takes effect at once (placement reads gateways per decision;
// the room catalog is reloaded after each write).
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import type { CatalogRow, RoomWriteProblem } from "../db/catalogStore.ts"
import { type GatewayRow, GatewayStore } from "../db/gatewayStore.ts"
import { RoomStore } from "../db/roomStore.ts"
import { RoomCatalog } from "../rooms/catalog.ts"
import { Rooms } from "../rooms/rooms.ts"
import { Api } from "./api.ts"
import { BadRequest, Conflict, NotFound } from "./errors.ts"
import { asHttpError } from "./failures.ts"

const gatewayView = (g: GatewayRow) => ({ ...g, online: g.online ?? null })

const roomView = (r: CatalogRow) => ({
  room: r.room,
  name: r.name,
  default_gateway: r.defaultGateway,
  region: r.region,
  join_code: r.joinCode,
  disabled: r.disabled
})

const roomWritten = (room: number, gateway: string | null | undefined) => (r: CatalogRow | RoomWriteProblem) => {
  switch (r) {
    case "exists":
    case "join code taken":
      return Effect.fail(new Conflict({ error: `room ${room} already exists` }))
    case "unknown gateway":
      return Effect.fail(new BadRequest({ error: `default_gateway: no gateway named ${gateway}` }))
    case "not found":
      return Effect.fail(new NotFound({ error: `room ${room} not found` }))
    default:
      return Effect.succeed(roomView(r))
  }
}

export const AdminHandlers = HttpApiBuilder.group(Api, "admin", Effect.fn(function*(handlers) {
  const gateways = yield* GatewayStore
  const catalog = yield* RoomCatalog
  const rooms = yield* Rooms
  const roomStore = yield* RoomStore

  const knownRoom = (room: number) =>
    Effect.flatMap(catalog.find(room), (r) => (r === undefined ? Effect.fail(new NotFound({ error: `room ${room} not found` })) : Effect.succeed(r)))

  return handlers
    .handle("listGateways", () => Effect.map(gateways.list, (list) => list.map(gatewayView)))
    .handle("createGateway", ({ payload }) =>
      gateways.create({
        name: payload.name,
        description: payload.description ?? "",
        capacity: payload.capacity ?? null,
        region: payload.region ?? null,
        enabled: payload.enabled ?? true,
        draining: payload.draining ?? false
      }).pipe(
        Effect.flatMap((g) => (g === undefined ? Effect.fail(new Conflict({ error: `gateway ${payload.name} already exists` })) : Effect.succeed(gatewayView(g)))),
        Effect.tap(() => catalog.refresh)
      ))
    .handle("updateGateway", ({ params, payload }) =>
      gateways.update(params.name, payload).pipe(
        Effect.flatMap((g) => (g === undefined ? Effect.fail(new NotFound({ error: `gateway ${params.name} not found` })) : Effect.succeed(gatewayView(g)))),
        Effect.tap(() => catalog.refresh)
      ))
    .handle("listRooms", () => Effect.map(catalog.all, (all) => all.map(roomView)))
    .handle("createRoom", ({ payload }) =>
      catalog.create({
        room: payload.room,
        name: payload.name,
        defaultGateway: payload.default_gateway ?? null,
        region: payload.region ?? null,
        disabled: payload.disabled ?? false
      }).pipe(Effect.flatMap(roomWritten(payload.room, payload.default_gateway))))
    .handle("getRoom", ({ params }) => Effect.map(knownRoom(params.room), roomView))
    .handle("updateRoom", ({ params, payload }) =>
      catalog.update(params.room, {
        ...(payload.name !== undefined ? { name: payload.name } : {}),
        ...(payload.default_gateway !== undefined ? { defaultGateway: payload.default_gateway } : {}),
        ...(payload.region !== undefined ? { region: payload.region } : {}),
        ...(payload.disabled !== undefined ? { disabled: payload.disabled } : {})
      }).pipe(Effect.flatMap(roomWritten(params.room, payload.default_gateway))))
    .handle("removeRoom", ({ params }) =>
      Effect.gen(function*() {
        const room = yield* knownRoom(params.room)
        yield* catalog.remove(params.room)
        return roomView(room)
      }))
    .handle("roomMachine", ({ params }) =>
      Effect.gen(function*() {
        const row = yield* knownRoom(params.room)
        const status = yield* asHttpError(rooms.status(params.room))
        const history = yield* roomStore.transitions(row.id)
        return {
          room: status.room,
          state: status.state,
          gateway: status.gateway,
          region: status.region,
          sessions: status.sessions,
          deadline: status.deadline === null ? null : new Date(status.deadline).toISOString(),
          history: history.map((t) => ({ ...t, at: t.at.toISOString() }))
        }
      }))
}))
