// The Room entity: one per room, holding the room's machine. It only loads,
// steps, commits and carries out effects; every decision is the machine's
// (machines/room.machine.ts). On its first message it loads the room from
// Postgres and tells the machine what storage holds (ROOM.LOADED). Each step
// is committed before it is answered; a step that asks the balancer is
// answered in the same statement, which reserves the room's load on the
// chosen gateway only if it still has room. After a stall of the process
// the room reloads from storage first (src/rooms/stalls.ts). Time comes
// from Effect's Clock, so tests move a TestClock instead of sleeping.
import { Clock, Duration, Effect, Exit, FiberHandle } from "effect"
import { Entity } from "effect/cluster"
import { placementReserve, reservedSize } from "../../machines/expectedSize.ts"
import type { RoomEvent } from "../../machines/room.machine.ts"
import { configuredMachine, dueTimers, newSnapshot, nextStateTimer, nextTimer, type RoomEffect, type RoomSnapshot, step, type TimerEvent } from "../../machines/step.ts"
import { noGatewayReason, type Selection } from "../balancer/select.ts"
import { AppConfig } from "../config.ts"
import { DatabaseOutage } from "../db/databaseOutage.ts"
import { type RoomRow, RoomStore } from "../db/roomStore.ts"
import { type DatabaseUnavailable, NoGatewayAvailable, RoomNotFound, RoomUnavailable } from "../domain/errors.ts"
import { countRelease, countResidentRoom } from "../metrics/events.ts"
import { roomChange, RoomChanges } from "./changes.ts"
import { Room, type RoomStatus } from "./roomProtocol.ts"
import { type Candidate, Placement } from "./placement.ts"
import { EventLoopStalls } from "./stalls.ts"

interface Loaded {
  readonly row: RoomRow
  readonly snapshot: RoomSnapshot
  /** The stored snapshot's version (null: none stored yet); the next write names it. */
  readonly version: number | null
}

const deadlineOf = (snapshot: RoomSnapshot) => {
  const next = nextTimer(snapshot)
  return next === undefined ? null : new Date(next.at)
}

/** Rounds of fresh counters a placement reads before it gives up (each tries every candidate). */
const maxPlacementRounds = 25

const writes = (effects: ReadonlyArray<RoomEffect>) =>
  effects.some((e) => e._tag === "Persist" || e._tag === "WriteAssignment" || e._tag === "TouchAssignment" || e._tag === "ReleaseAssignment")

export const makeRoomEntity = Effect.gen(function*() {
  const config = yield* AppConfig
  // The clock of the layer that hosts the rooms (entity fibers run in the cluster's context).
  const clock = yield* Clock.Clock
  const machine = configuredMachine(config)
  // A room costs nothing while nobody talks to it: its actor leaves memory
  // ROOM_RESIDENCY after its last message (the cluster looks every
  // ROOM_RESIDENCY, at least 5 s and at most 30 s apart, so up to that much
  // later). A timer still pending then fires from storage: the deadline
  // sweep wakes the room, which reloads and steps (src/rooms/deadlines.ts),
  // at most a sweep interval late.
  const maxIdleTime = Duration.millis(config.roomResidency)

  return Room.toLayer(Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    const roomId = address.entityId
    const store = yield* RoomStore
    const placement = yield* Placement
    const changes = yield* RoomChanges
    const outage = yield* DatabaseOutage
    const stalls = yield* EventLoopStalls
    const self = (yield* Room.client)(roomId)
    const timer = yield* FiberHandle.make()
    // The timer's fiber is forked from the room's own context, captured here:
    // forked from the message that armed it, it would keep that caller's
    // context (an HTTP request and its response) alive as long as the room
    // stays in memory.
    const runTimer = yield* FiberHandle.runtime(timer)<never>()
    yield* countResidentRoom(1)
    yield* Effect.addFinalizer(() => countResidentRoom(-1))
    let loaded: Loaded | undefined
    // The process's stall count when `loaded` was read from storage: after
    // a stall another process may have taken the room over and changed it
    // while this one still believes it hosts the room (its next lock refresh
    // would tell it), so what it remembers is read again from storage first.
    // (A step's write is fenced by the room's version anyway; a step that
    // writes nothing — a sticky answer — is fenced only by this.)
    let loadedAtStall = -1

    const status = (l: Loaded): RoomStatus => ({
      room: roomId,
      state: l.snapshot.state,
      gateway: l.snapshot.context.gateway,
      region: l.snapshot.context.region,
      sessions: l.snapshot.context.sessions.length,
      deadline: nextStateTimer(l.snapshot)?.at ?? null,
      seq: l.snapshot.seq
    })

    // What the database does not hold: log lines, and the change for whoever watches rooms.
    const carryOut = (effects: ReadonlyArray<RoomEffect>, after: Loaded) =>
      Effect.andThen(publish(effects, after), Effect.forEach(effects, (e) => {
        if (e._tag === "ReleaseAssignment") return countRelease(e.reason)
        if (e._tag !== "Log") return Effect.void
        const line = e.line.level === "warn" ? Effect.logWarning(e.line.message) : Effect.logInfo(e.line.message)
        return line.pipe(Effect.annotateLogs({
          room_id: roomId,
          gateway_name: e.gateway ?? "",
          ...(e.line.reason === undefined ? {} : { reason: e.line.reason })
        }))
      }, { discard: true }))

    const publish = (effects: ReadonlyArray<RoomEffect>, after: Loaded) => {
      if (!effects.some((e) => e._tag === "Persist")) return Effect.void
      const last = effects.findLast((e) => e._tag === "Persist" && e.history !== undefined)
      const history = last?._tag === "Persist" ? last.history : undefined
      return Effect.flatMap(clock.currentTimeMillis, (now) => changes.publish(roomChange(status(after), history, now)))
    }

    // Steps the machine with one event and commits what it asks for, with
    // the load the room then adds to its gateway. When it asks the balancer,
    // the answer is stepped and committed in one statement that reserves the
    // room's load on the chosen gateway only if that gateway still has room:
    // when another room filled it meanwhile, the room chooses again from the
    // counters as they are now. One writer of the assignment: this step.
    const apply = (l: Loaded, event: RoomEvent | TimerEvent): Effect.Effect<Loaded, DatabaseUnavailable | RoomUnavailable> =>
      Effect.gen(function*() {
        const now = yield* clock.currentTimeMillis
        const first = step(machine, l.snapshot, event, now)
        const commitOf = (snapshot: RoomSnapshot, effects: ReadonlyArray<RoomEffect>) => {
          const users = snapshot.context.sessions.length
          const load = placement.roomLoad(users, reservedSize(snapshot.context, now))
          return { version: l.version, snapshot, deadline: deadlineOf(snapshot), effects, load, reserved: load - placement.roomLoad(users) }
        }
        const select = first.effects.find((e) => e._tag === "SelectGateway")
        if (select === undefined) {
          // (no reservation here: only a placement's write can find its gateway full)
          const version = writes(first.effects)
            ? yield* store.write(l.row.id, commitOf(first.snapshot, first.effects)).pipe(Effect.catchTag("GatewayFull", Effect.die))
            : l.version
          const next = { row: l.row, snapshot: first.snapshot, version }
          yield* carryOut(first.effects, next)
          return next
        }
        const request = { ...select.request, expectedSize: placementReserve(first.snapshot.context), room: roomId, rowId: l.row.id }
        // Candidates in the balancer's order, from the counters read now and
        // the placements in progress here; one that filled meanwhile gives way
        // to the next, and when all did, fresh counters. An overflow is taken
        // only when the counters themselves (no placement in progress
        // counted) show no gateway with room.
        const need = placement.roomLoad(request.users, request.expectedSize)
        const place = (candidate: Candidate | undefined) =>
          Effect.gen(function*() {
            const answer: RoomEvent = candidate === undefined
              ? { type: "BALANCER.FAILED", reason: noGatewayReason }
              : { type: "BALANCER.DONE", gateway: candidate.choice.gateway, region: candidate.choice.region ?? null }
            const second = step(machine, first.snapshot, answer, now)
            const effects = [...first.effects, ...second.effects]
            const reserve = candidate?.bound === undefined || candidate.choice.gateway === l.snapshot.context.gateway
              ? undefined
              : { gateway: candidate.choice.gateway, capacity: candidate.bound }
            const write = store.write(l.row.id, { ...commitOf(second.snapshot, effects), reserve })
            const version = yield* candidate === undefined ? write : placement.pending(candidate.choice.gateway, need, write)
            const selection: Selection = candidate === undefined ? { _tag: "None", reason: noGatewayReason } : { _tag: "Chosen", choice: candidate.choice }
            yield* placement.report(request, selection)
            const next = { row: l.row, snapshot: second.snapshot, version }
            yield* carryOut(effects, next)
            return next
          })
        for (let round = 1; round <= maxPlacementRounds; round++) {
          const candidates = yield* placement.candidates(request, { withPending: true })
          if (candidates.length === 0) return yield* place(undefined).pipe(Effect.catchTag("GatewayFull", Effect.die))
          for (const candidate of candidates) {
            let chosen = candidate
            if (candidate.choice.stage === "overflow") {
              const [fresh] = yield* placement.candidates(request, { withPending: false })
              if (fresh === undefined) return yield* place(undefined).pipe(Effect.catchTag("GatewayFull", Effect.die))
              if (fresh.choice.stage !== "overflow") break
              chosen = fresh
            }
            const placed = yield* Effect.result(place(chosen))
            if (placed._tag === "Success") return placed.success
            if (placed.failure._tag !== "GatewayFull") return yield* Effect.fail(placed.failure)
          }
        }
        return yield* new RoomUnavailable({ room: roomId, message: `room ${roomId}: every gateway it chose filled up meanwhile; try again` })
      }).pipe(
        // Another process (one that took this room over while this one was
        // frozen) or a hand edit changed the room: this step is void.
        Effect.catchTag("StaleRoom", () =>
          Effect.logWarning("Room changed elsewhere; step dropped, the room reloads").pipe(
            Effect.annotateLogs({ room_id: roomId }),
            Effect.andThen(Effect.fail(new RoomUnavailable({ room: roomId, message: `room ${roomId} changed in another process; try again` })))
          )),
        // A step that failed or was interrupted (its caller stopped waiting)
        // may or may not have been committed: the room reads storage again
        // on its next message instead of trusting what it holds.
        Effect.onExit((exit) => Effect.sync(() => (loaded = Exit.isSuccess(exit) ? exit.value : undefined))),
        // no stack trace for a span taken on every step
        Effect.withSpan("Room.step", { attributes: { "room.id": roomId, "room.event": event.type } }, { captureStackTrace: false })
      )

    // Fires every timer already due, oldest first.
    const fireDue = (l: Loaded): Effect.Effect<Loaded, DatabaseUnavailable | RoomUnavailable> =>
      Effect.gen(function*() {
        let current = l
        for (;;) {
          const [due] = dueTimers(current.snapshot, yield* clock.currentTimeMillis)
          if (due === undefined) return current
          current = yield* apply(current, due.event)
        }
      })

    // The room as stored, and what storage holds about it told to its machine:
    // an assignment made elsewhere is adopted, a lost join or leave repaired,
    // an interrupted assignment resumed, timers that ran out while down fired.
    const load = Effect.gen(function*() {
      const stallsSeen = stalls.seen()
      if (loaded !== undefined && loadedAtStall === stallsSeen) return loaded
      loadedAtStall = stallsSeen
      const stored = yield* store.loadRoom(roomId).pipe(Effect.catchTag("StoredRowInvalid", (e) => Effect.die(e)))
      if (stored === undefined) return yield* new RoomNotFound({ room: roomId })
      const { row, machine: saved, assignment, sessions } = stored
      let snapshot: RoomSnapshot
      if (saved === undefined || "_tag" in saved.snapshot) {
        snapshot = newSnapshot(machine, roomId)
        if (saved !== undefined && "_tag" in saved.snapshot) {
          yield* Effect.logWarning("Room snapshot unreadable: rebuilt from its assignment and sessions").pipe(
            Effect.annotateLogs({ room_id: roomId, problem: saved.snapshot.message })
          )
          snapshot = { ...snapshot, seq: yield* store.historyLength(row.id) }
        }
      } else snapshot = saved.snapshot
      const l = yield* apply({ row, snapshot, version: saved?.version ?? null }, { type: "ROOM.LOADED", assignment, sessions })
      return yield* fireDue(l)
    })

    // Keeps one sleeping fiber per room that wakes it at its next deadline.
    const armTimer = (l: Loaded) =>
      Effect.gen(function*() {
        const next = nextTimer(l.snapshot)
        if (next === undefined) return yield* FiberHandle.clear(timer)
        const wait = Math.max(0, next.at - (yield* clock.currentTimeMillis))
        runTimer(clock.sleep(Duration.millis(wait)).pipe(
          Effect.andThen(self.Wake(undefined, { discard: true })),
          Effect.ignore
        ))
      })

    const handle = <E>(f: (l: Loaded) => Effect.Effect<Loaded, E>) =>
      load.pipe(Effect.flatMap(f), Effect.tap(armTimer), Effect.map(status))

    const sync = (l: Loaded) =>
      Effect.flatMap(store.liveSessions(l.row.id), (sessions) => apply(l, { type: "SESSIONS.SYNCED", sessions }))

    return Room.of({
      RequestServer: ({ payload }) =>
        handle((l) => apply(l, { type: "SERVER.REQUESTED", country: payload.country })).pipe(
          Effect.flatMap((s) =>
            s.gateway !== null && s.state === "assigned"
              ? Effect.succeed({ gateway: s.gateway, sessions: s.sessions })
              : Effect.fail(new NoGatewayAvailable({ room: roomId, reason: "no gateway available" }))
          )
        ),
      ChangeSession: ({ payload }) =>
        handle((l) => {
          switch (payload.change) {
            case "joined":
              return apply(l, { type: "SESSION.JOINED", session: payload.session, gateway: payload.gateway })
            case "updated":
              return apply(l, { type: "SESSION.UPDATED", session: payload.session, gateway: payload.gateway })
            case "left":
              return apply(l, { type: "SESSION.LEFT", session: payload.session })
          }
        }),
      SyncSessions: () => handle(sync),
      GatewayDown: ({ payload }) => handle((l) => apply(l, { type: "GATEWAY.DOWN", gateway: payload.gateway })),
      ReleaseAssignment: () => handle((l) => apply(l, { type: "RELEASE.REQUESTED" })),
      Reassign: ({ payload }) => handle((l) => apply(l, { type: "REASSIGN.REQUESTED", gateway: payload.gateway })),
      Reload: () => Effect.suspend(() => {
        loaded = undefined
        return handle(Effect.succeed)
      }),
      // Nobody waits for a wake: a database that is away is reported, and the
      // timer fires on the next wake (the deadline sweep retries every second).
      Wake: () =>
        handle(fireDue).pipe(
          Effect.asVoid,
          Effect.catchTag("DatabaseUnavailable", outage.report),
          Effect.catchTag(["RoomNotFound", "RoomUnavailable"], () => Effect.void)
        ),
      GetStatus: () => handle(Effect.succeed)
    })
  }), { maxIdleTime })
})
