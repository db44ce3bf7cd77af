// Handlers of the admin endpoints: gateways, rooms and each room's machine.
// Every change takes effect at once (placement reads gateways per decision;
// the room catalog is reloaded after each write).
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { auditChange } from "../auth/audit.ts"
import { hashPassword } from "../auth/passwords.ts"
import { Config } from "../config.ts"
import type { CatalogRow, RoomWriteProblem } from "../db/catalogStore.ts"
import { type GatewayListing, type GatewayRow, GatewayStore } from "../db/gatewayStore.ts"
import { RoomStore } from "../db/roomStore.ts"
import { type RoomId, roomIdOut } from "../domain/room.ts"
import { RoomCatalog } from "../rooms/catalog.ts"
import type { RoomStatus } from "../rooms/messages.ts"
import { type RoomFailure, Rooms } from "../rooms/rooms.ts"
import { Api } from "./api.ts"
import { BadRequest, Conflict, NotFound } from "./errors.ts"
import { asHttpError } from "./failures.ts"

const gatewayView = (g: GatewayRow) => ({ ...g, online: g.online ?? null })

const gatewayListEntry = (g: GatewayListing) => ({ ...gatewayView(g), events_password_set: g.eventsPasswordSet })

/** Only the hash of an events password is stored; null removes it. */
const eventsPasswordHash = (password: string | null | undefined) =>
  password === undefined ? Effect.succeed(undefined) : password === null ? Effect.succeed(null) : hashPassword(password)

export const AdminHandlers = HttpApiBuilder.group(Api, "admin", Effect.fn(function*(handlers) {
  const config = yield* Config
  const gateways = yield* GatewayStore
  const catalog = yield* RoomCatalog
  const rooms = yield* Rooms
  const roomStore = yield* RoomStore
  const idOut = (id: RoomId) => roomIdOut(id, config.roomIdsAsStrings)

  const roomView = (r: CatalogRow) => ({
    room: idOut(r.room),
    name: r.name,
    default_gateway: r.defaultGateway,
    region: r.region,
    join_code: r.joinCode,
    disabled: r.disabled,
    extra: r.extra ?? null
  })

  const roomWritten = (room: RoomId, gateway: string | null | undefined) => (r: CatalogRow | RoomWriteProblem) => {
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

  const knownRoom = (room: RoomId) =>
    Effect.flatMap(catalog.find(room), (r) => (r === undefined ? Effect.fail(new NotFound({ error: `room ${room} not found` })) : Effect.succeed(r)))

  // A room's machine as it reports itself (`read`: its status, or a reload), with its history.
  const machineView = (room: RoomId, read: (room: RoomId) => Effect.Effect<RoomStatus, RoomFailure>) =>
    Effect.gen(function*() {
      const row = yield* knownRoom(room)
      const status = yield* asHttpError(read(room))
      const history = yield* asHttpError(roomStore.transitions(row.id))
      return {
        room: idOut(status.room),
        state: status.state,
        gateway: status.gateway,
        region: status.region,
        sessions: status.sessions,
        deadline: status.deadline === null ? null : new Date(status.deadline).toISOString(),
        history: history.map((t) => ({ ...t, at: t.at.toISOString() }))
      }
    })

  return handlers
    .handle("listGateways", () => asHttpError(Effect.map(gateways.listing, (list) => list.map(gatewayListEntry))))
    .handle("createGateway", ({ payload }) =>
      Effect.flatMap(eventsPasswordHash(payload.events_password), (hash) =>
        asHttpError(gateways.create({
          name: payload.name,
          description: payload.description ?? "",
          capacity: payload.capacity ?? null,
          region: payload.region ?? null,
          enabled: payload.enabled ?? true,
          draining: payload.draining ?? false,
          eventsPasswordHash: hash ?? null
        }).pipe(Effect.tap(() => catalog.refresh)))).pipe(
          Effect.flatMap((g) => (g === undefined ? Effect.fail(new Conflict({ error: `gateway ${payload.name} already exists` })) : Effect.succeed(gatewayView(g)))),
          Effect.tap(() => auditChange("gateway.create", { gateway: payload.name }, payload))
        ))
    .handle("updateGateway", ({ params, payload }) =>
      Effect.flatMap(eventsPasswordHash(payload.events_password), (hash) =>
        asHttpError(gateways.update(params.name, { ...payload, eventsPasswordHash: hash }).pipe(Effect.tap(() => catalog.refresh)))).pipe(
          Effect.flatMap((g) => (g === undefined ? Effect.fail(new NotFound({ error: `gateway ${params.name} not found` })) : Effect.succeed(gatewayView(g)))),
          Effect.tap(() => auditChange("gateway.update", { gateway: params.name }, payload))
        ))
    .handle("listRooms", () => Effect.map(catalog.all, (all) => all.map(roomView)))
    .handle("createRoom", ({ payload }) =>
      asHttpError(catalog.create({
        room: payload.room,
        name: payload.name,
        defaultGateway: payload.default_gateway ?? null,
        region: payload.region ?? null,
        disabled: payload.disabled ?? false,
        extra: payload.extra ?? null
      })).pipe(
        Effect.flatMap(roomWritten(payload.room, payload.default_gateway)),
        Effect.tap(() => auditChange("room.create", { room: payload.room }, payload))
      ))
    .handle("getRoom", ({ params }) => Effect.map(knownRoom(params.room), roomView))
    .handle("updateRoom", ({ params, payload }) =>
      asHttpError(catalog.update(params.room, {
        ...(payload.name !== undefined ? { name: payload.name } : {}),
        ...(payload.default_gateway !== undefined ? { defaultGateway: payload.default_gateway } : {}),
        ...(payload.region !== undefined ? { region: payload.region } : {}),
        ...(payload.disabled !== undefined ? { disabled: payload.disabled } : {}),
        ...(payload.extra !== undefined ? { extra: payload.extra } : {})
      })).pipe(
        Effect.flatMap(roomWritten(params.room, payload.default_gateway)),
        Effect.tap(() => auditChange("room.update", { room: params.room }, payload))
      ))
    .handle("removeRoom", ({ params }) =>
      Effect.gen(function*() {
        const room = yield* knownRoom(params.room)
        yield* asHttpError(catalog.remove(params.room))
        yield* auditChange("room.remove", { room: params.room })
        return roomView(room)
      }))
    .handle("roomMachine", ({ params }) => machineView(params.room, rooms.status))
    .handle("reloadRoom", ({ params }) =>
      machineView(params.room, rooms.reload).pipe(Effect.tap(() => auditChange("room.reload", { room: params.room }))))
}))
