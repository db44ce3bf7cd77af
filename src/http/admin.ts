// Handlers of the admin endpoints: gateways, rooms, each room's machine,
// sessions and assignments. Every change takes effect at once (placement
// reads gateways per decision; the room catalog is reloaded after each
// write) and is audited with who made it. What a release or a reassign does
// to a room is its machine's decision: the handler only reports it.
import { Effect, Layer } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { auditChange } from "../auth/audit.ts"
import { hashPassword } from "../auth/passwords.ts"
import { AppConfig } from "../config.ts"
import type { CatalogRow, RoomWriteProblem } from "../db/catalogStore.ts"
import { AdminStore, type AssignmentRow, type SessionRow } from "../db/adminStore.ts"
import { type GatewayListing, type GatewayPatch, type GatewayRow, GatewayStore } from "../db/gatewayStore.ts"
import { RoomStore } from "../db/roomStore.ts"
import { type RoomId, roomIdOut } from "../domain/room.ts"
import { RoomCatalog } from "../rooms/catalog.ts"
import type { RoomStatus } from "../rooms/roomProtocol.ts"
import { GatewayLoads, type GatewayLoadView } from "../gateways/loads.ts"
import { type RoomFailure, Rooms } from "../rooms/roomClient.ts"
import { Sessions } from "../sessions/sessions.ts"
import { defaultAdminPage } from "./adminApi.ts"
import { Api, type GatewayPatch as GatewayPatchBody } from "./api.ts"
import { BadRequest, Conflict, NotFound } from "../domain/wireErrors.ts"
import { asHttpError } from "./httpErrors.ts"

// SPEC names an admin's gateway status serving / draining / disabled, and the
// API keeps its word `draining`; the code says `cordoned`, so that it is never
// read as the room state of that name.
const gatewayView = ({ cordoned, ...g }: GatewayRow) => ({ ...g, draining: cordoned, online: g.online ?? null })

/** An admin's change of a gateway's settings, in the code's words (its events password is hashed apart). */
const settingsOf = ({ draining, events_password: _, ...settings }: typeof GatewayPatchBody.Type): GatewayPatch => ({ ...settings, cordoned: draining })

const gatewayListEntry = (g: GatewayListing) => ({ ...gatewayView(g), events_password_set: g.eventsPasswordSet })

/** Only the hash of an events password is stored; null removes it. */
const eventsPasswordHash = (password: string | null | undefined) =>
  password === undefined ? Effect.succeed(undefined) : password === null ? Effect.succeed(null) : hashPassword(password)

export const AdminHandlers = HttpApiBuilder.group(Api, "admin", Effect.fn(function*(handlers) {
  const config = yield* AppConfig
  const gateways = yield* GatewayStore
  const catalog = yield* RoomCatalog
  const rooms = yield* Rooms
  const roomStore = yield* RoomStore
  const store = yield* AdminStore
  const sessions = yield* Sessions
  const loads = yield* GatewayLoads
  const idOut = (id: RoomId) => roomIdOut(id, config.roomIdsAsStrings)
  const iso = (millis: number) => new Date(millis).toISOString()
  const cursorOf = (page: { readonly rows: ReadonlyArray<{ readonly id: number }>; readonly more: boolean }) =>
    page.more && page.rows.length > 0 ? String(page.rows.at(-1)!.id) : null

  const sessionView = ({ joined, keepalive, room, ...s }: SessionRow) => ({ ...s, room: idOut(room), joined: iso(joined), keepalive: iso(keepalive) })

  const assignmentView = ({ id: _, room, state, assigned_at, last_used_at, ...a }: AssignmentRow) => ({
    ...a,
    room: idOut(room),
    state: state as RoomStatus["state"] | null,
    assigned_at: iso(assigned_at),
    last_used_at: iso(last_used_at)
  })

  const changeView = (previous: string, s: RoomStatus) => ({
    room: idOut(s.room),
    state: s.state,
    gateway: s.gateway,
    previous_gateway: previous,
    region: s.region,
    sessions: s.sessions
  })

  // The room's assignment as its machine holds it: one to release or move.
  const assignedRoom = (room: RoomId) =>
    Effect.gen(function*() {
      if (!config.scale) return yield* new Conflict({ error: "rooms have no assignments in legacy mode (SCALE=false)" })
      const row = yield* knownRoom(room)
      const status = yield* asHttpError(rooms.status(room))
      if (status.gateway === null || status.state === "idle") return yield* new NotFound({ error: `room ${room} has no assignment` })
      return { row, status, gateway: status.gateway }
    })

  const whyNoRooms = (g: GatewayLoadView) =>
    !g.available ? "is not in AVAILABLE_JANUS_SERVERS" : !g.enabled ? "is disabled" : g.cordoned ? "is draining" : g.online === false ? "is offline" : undefined
  const takesRooms = (g: GatewayLoadView) => whyNoRooms(g) === undefined

  // A gateway the operator names must be able to take rooms; whether it has room is the operator's call.
  const usableGateway = (name: string) =>
    Effect.gen(function*() {
      const gateway = (yield* asHttpError(loads.current)).find((g) => g.name === name)
      if (gateway === undefined || !gateway.registered) return yield* new BadRequest({ error: `gateway: no gateway named ${name}` })
      const why = whyNoRooms(gateway)
      if (why !== undefined) return yield* new Conflict({ error: `gateway ${name} ${why}: it takes no rooms` })
    })

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
          cordoned: payload.draining ?? false,
          eventsPasswordHash: hash ?? null
        }).pipe(Effect.tap(() => catalog.refresh)))).pipe(
          Effect.flatMap((g) => (g === undefined ? Effect.fail(new Conflict({ error: `gateway ${payload.name} already exists` })) : Effect.succeed(gatewayView(g)))),
          Effect.tap(() => auditChange("gateway.create", { gateway: payload.name }, payload))
        ))
    .handle("updateGateway", ({ params, payload }) =>
      Effect.flatMap(eventsPasswordHash(payload.events_password), (hash) =>
        asHttpError(gateways.update(params.name, { ...settingsOf(payload), eventsPasswordHash: hash }).pipe(Effect.tap(() => catalog.refresh)))).pipe(
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
    .handle("listSessions", ({ query }) =>
      asHttpError(store.sessions({ ...query, after: Number(query.cursor ?? 0), limit: query.limit ?? defaultAdminPage })).pipe(
        Effect.map((page) => ({ sessions: page.rows.map(sessionView), next_cursor: cursorOf(page) }))
      ))
    .handle("closeSession", ({ params }) =>
      Effect.gen(function*() {
        const session = yield* asHttpError(store.session(params.id))
        // closed by its room's usual path: the room hears the leave
        if (session === undefined || !(yield* asHttpError(sessions.closeSocket(params.id)))) {
          return yield* new NotFound({ error: `session ${params.id} not found` })
        }
        yield* auditChange("session.close", { session: params.id }, { room: session.room, user: session.user, gateway: session.gateway })
        return sessionView(session)
      }))
    .handle("listAssignments", ({ query }) =>
      asHttpError(store.assignments({ gateway: query.gateway, after: Number(query.cursor ?? 0), limit: query.limit ?? defaultAdminPage })).pipe(
        Effect.map((page) => ({ assignments: page.rows.map(assignmentView), next_cursor: cursorOf(page) }))
      ))
    .handle("releaseAssignment", ({ params }) =>
      Effect.gen(function*() {
        const { gateway } = yield* assignedRoom(params.room)
        const after = yield* asHttpError(rooms.releaseAssignment(params.room))
        if (after.gateway !== null) {
          return yield* new Conflict({ error: `room ${params.room} has ${after.sessions} users: only an empty room's assignment is released` })
        }
        yield* auditChange("assignment.release", { room: params.room }, { gateway })
        return changeView(gateway, after)
      }))
    .handle("reassignRoom", ({ params, payload }) =>
      Effect.gen(function*() {
        const { status, gateway } = yield* assignedRoom(params.room)
        if (status.state === "draining") {
          return yield* new Conflict({ error: `room ${params.room} is draining (nobody in it): release it instead` })
        }
        if (payload.gateway !== undefined) yield* usableGateway(payload.gateway)
        // as a failover, but a room with nowhere to go stays where it is (the
        // balancer finds a gateway, over capacity if need be, while another takes rooms)
        else if (!(yield* asHttpError(loads.current)).some((g) => g.name !== gateway && takesRooms(g))) {
          return yield* new Conflict({ error: `no other gateway can take room ${params.room} now` })
        }
        const after = yield* asHttpError(rooms.reassign(params.room, payload.gateway))
        yield* auditChange("assignment.reassign", { room: params.room }, { from: gateway, to: after.gateway, gateway: payload.gateway })
        return changeView(gateway, after)
      }))
})).pipe(Layer.provide(AdminStore.layer))
