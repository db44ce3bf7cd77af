// The Room entity's handlers: one instance per room, holding the room's
// machine. On its first message it reloads the room from Postgres; every
// step is committed (transition, snapshot, assignment) before it is answered.
import { Duration, Effect, FiberHandle, Schema } from "effect"
import { Entity } from "effect/cluster"
import type { RoomEvent } from "../../machines/room.machine.ts"
import { Config } from "../config.ts"
import { type RoomRow, RoomStore } from "../db/roomStore.ts"
import { NoGatewayAvailable, Room, RoomNotFound, type RoomStatus } from "./entity.ts"
import { configuredMachine, eventLabel, newLife, nextTimer, type RoomLife, step, type Timer } from "./lifecycle.ts"
import { Placement } from "./placement.ts"

const StoredLife = Schema.Struct({
  state: Schema.Literals(["idle", "assigning", "assigned", "draining"]),
  context: Schema.Struct({
    room: Schema.Number,
    gateway: Schema.NullOr(Schema.String),
    region: Schema.NullOr(Schema.String),
    country: Schema.NullOr(Schema.String),
    sessions: Schema.Array(Schema.String),
    avoid: Schema.NullOr(Schema.String)
  }),
  timers: Schema.Record(Schema.String, Schema.Struct({ event: Schema.Struct({ type: Schema.String }), at: Schema.Number }))
})
const decodeLife = Schema.decodeUnknownSync(StoredLife)

/** Sticky hits and keepalives touch `last_used_at` at most this often per room (it is informational). */
const touchInterval = 30_000

interface Loaded {
  readonly row: RoomRow
  readonly life: RoomLife
  /** transitions logged so far */
  readonly seq: number
}

export const makeRoomEntity = Effect.gen(function*() {
  const config = yield* Config
  const machine = configuredMachine(config)
  // Timers normally fire inside the entity; keep it resident past the longest one.
  const maxIdleTime = Duration.millis(Math.max(config.drainGrace, config.assignmentTtl) + 60_000)

  return Room.toLayer(Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    const roomNumber = Number(address.entityId)
    const store = yield* RoomStore
    const placement = yield* Placement
    const self = (yield* Room.client)(address.entityId)
    const timer = yield* FiberHandle.make()
    let loaded: Loaded | undefined
    let lastTouch = 0

    const status = (l: Loaded): RoomStatus => ({
      room: roomNumber,
      state: l.life.state,
      gateway: l.life.context.gateway,
      region: l.life.context.region,
      sessions: l.life.context.sessions.length,
      deadline: nextTimer(l.life)?.at ?? null,
      seq: l.seq
    })

    // Applies one event: commit what changed, then carry out what the machine asked for.
    const apply = (l: Loaded, event: RoomEvent | Timer["event"], label = eventLabel(event)): Effect.Effect<Loaded, never> =>
      Effect.gen(function*() {
        const s = step(machine, l.life, event, Date.now())
        const moved = s.from !== s.life.state || s.life.context.gateway !== l.life.context.gateway
        const unchanged = !moved && JSON.stringify(s.life) === JSON.stringify(l.life)
        let next: Loaded = { row: l.row, life: s.life, seq: moved ? l.seq + 1 : l.seq }
        if (unchanged && (s.assignment.kind === "none" || s.assignment.kind === "touch")) {
          if (s.assignment.kind === "touch" && Date.now() - lastTouch >= touchInterval) {
            lastTouch = Date.now()
            yield* store.touch(l.row.id)
          }
        } else {
          const deadline = nextTimer(s.life)
          yield* store.commit(l.row.id, {
            transition: moved
              ? { seq: next.seq, from: s.from, event: label, to: s.life.state, gateway: s.life.context.gateway ?? l.life.context.gateway }
              : undefined,
            seq: next.seq,
            state: s.life.state,
            snapshot: s.life,
            deadlineAt: deadline ? new Date(deadline.at) : null,
            assignment: s.assignment,
            users: s.life.context.sessions.length
          })
          if (s.assignment.kind !== "none") lastTouch = Date.now()
        }
        loaded = next
        if (s.released !== undefined) yield* logRelease(s.released, l)
        if (s.selectGateway) next = yield* select(next)
        return next
      })

    const logRelease = (reason: string, before: Loaded) => {
      const line = reason === "drain grace elapsed" ? "Cleaned up room assignment" : "Released room assignment"
      return Effect.logInfo(line).pipe(Effect.annotateLogs({ room_id: roomNumber, gateway_name: before.life.context.gateway ?? "", reason }))
    }

    // The room is `assigning`: ask the balancer and feed its answer back.
    const select = (l: Loaded) =>
      placement.place({
        roomId: l.row.id,
        room: roomNumber,
        users: l.life.context.sessions.length,
        country: l.life.context.country ?? undefined,
        region: l.life.context.region ?? l.row.region ?? undefined,
        avoid: l.life.context.avoid ?? undefined
      }).pipe(
        Effect.matchEffect({
          onSuccess: (choice) => apply(l, { type: "BALANCER.DONE", gateway: choice.gateway, region: choice.region ?? null }),
          onFailure: (e) => apply(l, { type: "BALANCER.FAILED", reason: e.reason })
        })
      )

    // Fires every timer already due, oldest first.
    const fireDue = (l: Loaded): Effect.Effect<Loaded> =>
      Effect.gen(function*() {
        let current = l
        for (let due = nextTimer(current.life); due !== undefined && due.at <= Date.now(); due = nextTimer(current.life)) {
          current = yield* apply(current, due.event)
        }
        return current
      })

    // The room as stored; a room last seen mid-assignment asks the balancer again.
    const load = Effect.gen(function*() {
      if (loaded !== undefined) return loaded
      const row = yield* store.findRoom(roomNumber)
      if (row === undefined) return yield* new RoomNotFound({ room: roomNumber })
      const stored = yield* store.loadMachine(row.id)
      let l: Loaded = stored === undefined
        ? yield* adoptStoredState(row)
        : { row, life: decodeLife(stored.snapshot) as RoomLife, seq: stored.seq }
      loaded = l
      if (l.life.state === "assigning") l = yield* select(l)
      return yield* fireDue(l)
    })

    // No snapshot yet (a room assigned before this service, or never used):
    // start from its assignment row and its live sessions.
    const adoptStoredState = (row: RoomRow) =>
      Effect.gen(function*() {
        let l: Loaded = { row, life: newLife(machine, roomNumber), seq: 0 }
        const assignment = yield* store.loadAssignment(row.id)
        if (assignment !== undefined) {
          const assigning: RoomLife = { ...l.life, state: "assigning" }
          l = yield* apply({ ...l, life: assigning }, { type: "BALANCER.DONE", gateway: assignment.gateway, region: assignment.region }, "restored")
        }
        for (const s of yield* store.liveSessions(row.id)) {
          l = yield* apply(l, { type: "SESSION.UPDATED", session: s.session, gateway: s.gateway }, "restored")
        }
        return l
      })

    // Keeps one sleeping fiber per room that wakes it at its next deadline.
    const armTimer = (l: Loaded) => {
      const next = nextTimer(l.life)
      if (next === undefined) return FiberHandle.clear(timer)
      return FiberHandle.run(
        timer,
        Effect.sleep(Duration.millis(Math.max(0, next.at - Date.now()))).pipe(
          Effect.andThen(self.Wake(undefined, { discard: true })),
          Effect.ignore
        )
      ).pipe(Effect.asVoid)
    }

    const handle = <E>(f: (l: Loaded) => Effect.Effect<Loaded, E>) =>
      load.pipe(
        Effect.flatMap(f),
        Effect.tap(armTimer),
        Effect.map(status)
      )

    return Room.of({
      RequestServer: ({ payload }) =>
        handle((l) => apply(l, { type: "SERVER.REQUESTED", country: payload.country })).pipe(
          Effect.flatMap((s) =>
            s.gateway !== null && s.state === "assigned"
              ? Effect.succeed({ gateway: s.gateway })
              : Effect.fail(new NoGatewayAvailable({ room: roomNumber, reason: "no gateway available" }))
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
      GatewayDown: ({ payload }) => handle((l) => apply(l, { type: "GATEWAY.DOWN", gateway: payload.gateway })),
      Wake: () => handle(fireDue),
      GetStatus: () => handle(Effect.succeed)
    })
  }), { maxIdleTime })
})
