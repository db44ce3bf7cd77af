// The lifecycle of one room: idle → assigning → assigned → draining.
// Pure: no I/O and no Effect. Every lifecycle decision is here: what a
// request, a join, a leave, a timer, a gateway failure or a reload does.
// Actions, guards and delays are named here and given their configured
// values by the runtime (src/rooms/), which steps this machine with the pure
// interpreter in machines/step.ts and carries out the effects it returns.
import { and, assertEvent, assign, setup } from "xstate"
import { learnExpectedSize, placementReserve, settleTime } from "./expectedSize.ts"

/** A live session of the room and the gateway it is on. */
export interface SessionOnGateway {
  readonly session: string
  readonly gateway: string
}

export interface RoomContext {
  /** The room id (the Janus videoroom id, canonical form). */
  readonly room: string
  /** The gateway hosting the room while assigned or draining. */
  readonly gateway: string | null
  /** The region the room was placed in; kept when it is moved (failover). */
  readonly region: string | null
  /** The country of the request that started the assignment. */
  readonly country: string | null
  /** Ids of the room's live sessions. */
  readonly sessions: ReadonlyArray<string>
  /** A gateway that went down under the room: the balancer must avoid it. */
  readonly avoid: string | null
  /** When the unused reservation was made or last renewed (epoch ms). */
  readonly renewedAt: number
  /** When the assignment's `last_used_at` was last written (epoch ms). */
  readonly touchedAt: number
  /** When the room last entered its state (epoch ms): its timers run from here. */
  readonly since: number
  /** The most users the current assignment has counted (machines/expectedSize.ts). */
  readonly peak: number
  /** The room's expected size, learnt when each assignment ends; 0 with no history. */
  readonly expected: number
  /** How far its peaks strayed from its expectation (machines/expectedSize.ts): it reserves expected − spread. */
  readonly spread: number
  /** When the balancer last placed the room (epoch ms; 0: not placed by it): it is young for a while after. */
  readonly placedAt: number
}

/** What happens to a room. The interpreter stamps every event with `at`, the time it is handled. */
export type RoomEvent =
  | {
    /** The room was loaded from storage: its assignment row and live sessions, as stored. */
    readonly type: "ROOM.LOADED"
    readonly assignment: { readonly gateway: string; readonly region: string | null } | null
    readonly sessions: ReadonlyArray<SessionOnGateway>
  }
  | { readonly type: "SERVER.REQUESTED"; readonly country?: string | undefined }
  | { readonly type: "SESSION.JOINED"; readonly session: string; readonly gateway: string }
  | { readonly type: "SESSION.UPDATED"; readonly session: string; readonly gateway: string }
  | { readonly type: "SESSION.LEFT"; readonly session: string }
  /** The room's live sessions as the sessions table holds them (the cleaner repairs a lost join or leave). */
  | { readonly type: "SESSIONS.SYNCED"; readonly sessions: ReadonlyArray<SessionOnGateway> }
  | { readonly type: "GATEWAY.DOWN"; readonly gateway: string }
  | { readonly type: "BALANCER.DONE"; readonly gateway: string; readonly region: string | null }
  | { readonly type: "BALANCER.FAILED"; readonly reason: string }
  /** An operator frees the room's assignment; only an empty room lets it go. */
  | { readonly type: "RELEASE.REQUESTED" }
  /** An operator moves the room off its gateway: to `gateway`, or where the balancer chooses (as a failover does). */
  | { readonly type: "REASSIGN.REQUESTED"; readonly gateway?: string | undefined }

export type RoomState = "idle" | "assigning" | "assigned" | "draining"
export const roomStates: ReadonlyArray<RoomState> = ["idle", "assigning", "assigned", "draining"]

/** A log line the runtime writes for a step, with the room and its gateway. */
export interface LogLine {
  readonly level: "info" | "warn"
  readonly message: string
  readonly reason?: string
}

type Stamped = RoomEvent & { readonly at: number }

/** Events that carry a session on a gateway, and those that carry a session. */
const sessionEvents = ["SESSION.JOINED", "SESSION.UPDATED"] as const
const membershipEvents = [...sessionEvents, "SESSION.LEFT"] as const
/** Events that carry the room's live sessions: a reload from storage and a recount of the sessions table. */
const recountEvents = ["ROOM.LOADED", "SESSIONS.SYNCED"] as const

const withSession = (sessions: ReadonlyArray<string>, id: string) => (sessions.includes(id) ? sessions : [...sessions, id])

/** The gateway most of a set of sessions are on (a room already in use is never split). */
export const mostUsedGateway = (sessions: ReadonlyArray<SessionOnGateway>): string | undefined => {
  const counts = new Map<string, number>()
  let best: string | undefined
  for (const s of sessions) {
    const n = (counts.get(s.gateway) ?? 0) + 1
    counts.set(s.gateway, n)
    if (best === undefined || n > counts.get(best)!) best = s.gateway
  }
  return best
}

export const initialRoomContext = (room: string): RoomContext => ({
  room,
  gateway: null,
  region: null,
  country: null,
  sessions: [],
  avoid: null,
  renewedAt: 0,
  touchedAt: 0,
  since: 0,
  peak: 0,
  expected: 0,
  spread: 0,
  placedAt: 0
})

/** SPEC default of MAX_SERVER_CAPACITY: no room expects more; the runtime provides the configured one. */
export const defaultExpectedBound = 400

/** The room lets its gateway go, learning its expected size from the assignment's peak (at most `bound`). */
export const forgotten = (context: RoomContext, bound: number): Partial<RoomContext> => ({
  gateway: null,
  region: null,
  country: null,
  avoid: null,
  ...learnExpectedSize({ expected: context.expected, spread: context.spread }, context.peak, bound),
  peak: 0,
  placedAt: 0
})

/** SPEC defaults; the runtime provides the configured DRAIN_GRACE and ASSIGNMENT_TTL. */
export const defaultDelays = { drainGrace: 30_000, assignmentTtl: 120_000 }

/**
 * A request renews an unused reservation, and touches the informational
 * `last_used_at`, at most every quarter of the reservation's TTL: each is a
 * write. The runtime gives its configured TTL (machines/step.ts).
 */
export const pacedWrites = (assignmentTtl: number) => ({
  renewalDue: ({ context, event }: { readonly context: RoomContext; readonly event: { readonly at: number } }) =>
    event.at - context.renewedAt >= assignmentTtl / 4,
  touchDue: ({ context, event }: { readonly context: RoomContext; readonly event: { readonly at: number } }) =>
    event.at - context.touchedAt >= assignmentTtl / 4
})

// The initial state is entered before any event carries a time.
const timeOf = (event: { readonly at?: number }) => event.at ?? 0

/**
 * How long a room just placed stays young: until `settleTime` after its
 * placement, the same moment however often `assigned` is re-entered. A room
 * that is not young gets no timer: XState raises an `after` event whose delay
 * is not a number at once, within the same step, where `youthEnded` refuses
 * it (its event carries no time). XState types a delay as a number only.
 */
const youthLeft = ({ context, event }: { readonly context: RoomContext; readonly event: { readonly at?: number } }) => {
  const left = context.placedAt + settleTime - timeOf(event)
  return (context.placedAt > 0 && left > 0 && placementReserve(context) > 0 ? left : undefined) as number
}

/**
 * The room lets its gateway go: the assignment is released for `reason`, a
 * line is logged, and the gateway is forgotten. It stays three actions on
 * the transition: the inspector lists them, and the metrics read the release
 * reasons from the definition.
 */
const lettingGo = (reason: string, line: LogLine = { level: "info", message: "Released room assignment", reason }) =>
  [{ type: "releaseAssignment", params: { reason } }, { type: "log", params: line }, "forgetGateway"] as const

/** Each way a room lets its gateway go, named once. */
const letGo = {
  unplaced: lettingGo("no gateway available", { level: "warn", message: "No gateway available for room" }),
  unused: lettingGo("reservation unused"),
  byAdmin: lettingGo("released by admin"),
  drained: lettingGo("drain grace elapsed", { level: "info", message: "Cleaned up room assignment", reason: "drain grace elapsed" }),
  underDeadGateway: lettingGo("gateway down while draining")
}

// What a recount does (ROOM.LOADED: a reload from storage; SESSIONS.SYNCED:
// the sessions table's): the same for both events in every state but idle,
// where a reload also brings the stored assignment.
/** Sessions found: the room is assigned where most of them are. */
const adoptFound = { guard: "bringsSessions", target: "assigned", actions: ["adoptSessionsGateway", "syncSessions", "recordAssignment"] } as const
const recountIdle = [adoptFound, { actions: "syncSessions" }] as const
const recountAssigned = [
  { guard: "emptiedUnnoticed", target: "draining", actions: ["syncSessions", "recordAssignment"] },
  { actions: ["syncSessions", "recordAssignment"] }
] as const

export const roomMachine = setup({
  types: {
    context: {} as RoomContext,
    events: {} as Stamped,
    input: {} as { readonly room: string }
  },
  actions: {
    // Carried out by the runtime (the interpreter turns them into effects).
    selectGateway: () => {},
    recordAssignment: () => {},
    releaseAssignment: (_, _params: { readonly reason: string }) => {},
    log: (_, _params: LogLine) => {},
    touchAssignment: () => {},
    markTouched: assign({ touchedAt: ({ event }) => event.at }),
    markRenewed: assign({ renewedAt: ({ event }) => event.at, touchedAt: ({ event }) => event.at }),
    rememberCountry: assign(({ event }) => {
      assertEvent(event, "SERVER.REQUESTED")
      return { country: event.country?.toUpperCase() ?? null, avoid: null }
    }),
    addSession: assign(({ context, event }) => {
      assertEvent(event, sessionEvents)
      const sessions = withSession(context.sessions, event.session)
      return { sessions, peak: Math.max(context.peak, sessions.length) }
    }),
    removeSession: assign(({ context, event }) => {
      assertEvent(event, "SESSION.LEFT")
      return { sessions: context.sessions.filter((s) => s !== event.session) }
    }),
    syncSessions: assign(({ context, event }) => {
      assertEvent(event, recountEvents)
      const sessions = event.sessions.map((s) => s.session)
      return { sessions, peak: Math.max(context.peak, sessions.length) }
    }),
    // A room already in use on a gateway stays there: never split it.
    adoptSessionGateway: assign(({ context, event }) => {
      assertEvent(event, sessionEvents)
      const gateway = event.gateway
      return { gateway, region: gateway === context.gateway ? context.region : null, avoid: null, renewedAt: event.at, touchedAt: event.at }
    }),
    adoptSessionsGateway: assign(({ context, event }) => {
      assertEvent(event, recountEvents)
      const gateway = mostUsedGateway(event.sessions) ?? context.gateway
      return { gateway, region: gateway === context.gateway ? context.region : null, avoid: null, touchedAt: event.at }
    }),
    restoreAssignment: assign(({ event }) => {
      assertEvent(event, "ROOM.LOADED")
      const { assignment } = event
      return { gateway: assignment!.gateway, region: assignment!.region, avoid: null, renewedAt: event.at, touchedAt: event.at }
    }),
    placeOnGateway: assign(({ event }) => {
      assertEvent(event, "BALANCER.DONE")
      return { gateway: event.gateway, region: event.region, avoid: null, renewedAt: event.at, touchedAt: event.at, placedAt: event.at }
    }),
    avoidGateway: assign({ avoid: ({ context }) => context.gateway }),
    // The operator's choice of gateway; the room keeps its region and its users.
    moveToGateway: assign(({ event }) => {
      assertEvent(event, "REASSIGN.REQUESTED")
      const gateway = event.gateway!
      return { gateway, avoid: null, renewedAt: event.at, touchedAt: event.at }
    }),
    markEntered: assign({ since: ({ event }) => timeOf(event) }),
    forgetGateway: assign(({ context }) => forgotten(context, defaultExpectedBound))
  },
  guards: {
    isEmpty: ({ context }) => context.sessions.length === 0,
    isLastSession: ({ context, event }) => {
      assertEvent(event, "SESSION.LEFT")
      return context.sessions.length === 1 && context.sessions[0] === event.session
    },
    isKnownSession: ({ context, event }) => {
      assertEvent(event, membershipEvents)
      return context.sessions.includes(event.session)
    },
    isRoomGateway: ({ context, event }) => {
      assertEvent(event, "GATEWAY.DOWN")
      return event.gateway === context.gateway
    },
    namesNoGateway: ({ event }) => {
      assertEvent(event, "REASSIGN.REQUESTED")
      return event.gateway === undefined
    },
    namesOtherGateway: ({ context, event }) => {
      assertEvent(event, "REASSIGN.REQUESTED")
      return event.gateway !== undefined && event.gateway !== context.gateway
    },
    hasAssignment: ({ event }) => {
      assertEvent(event, "ROOM.LOADED")
      return event.assignment !== null
    },
    bringsSessions: ({ event }) => {
      assertEvent(event, recountEvents)
      return event.sessions.length > 0
    },
    // The room had users and the sessions table has none left: the last one left unnoticed.
    emptiedUnnoticed: ({ context, event }) => {
      assertEvent(event, recountEvents)
      return context.sessions.length > 0 && event.sessions.length === 0
    },
    // Placed by the balancer `settleTime` ago and still short of the size it reserved.
    youthEnded: ({ context, event }) =>
      context.placedAt > 0 && timeOf(event) >= context.placedAt + settleTime && placementReserve(context) > 0,
    ...pacedWrites(defaultDelays.assignmentTtl)
  },
  delays: { ...defaultDelays, settleTime: youthLeft }
}).createMachine({
  id: "room",
  initial: "idle",
  // XState builds an inert actor without input for every pure `transition`:
  // the factory must not throw then (its context is replaced by the snapshot's).
  context: ({ input }) => initialRoomContext((input as { readonly room: string } | undefined)?.room ?? ""),
  states: {
    idle: {
      entry: "markEntered",
      on: {
        "ROOM.LOADED": [
          // assigned before this service (gxydb-api's table) or by an older version: keep it
          { guard: "hasAssignment", target: "assigned", actions: ["restoreAssignment", "syncSessions", "recordAssignment"] },
          ...recountIdle
        ],
        "SERVER.REQUESTED": { target: "assigning", actions: "rememberCountry" },
        "SESSION.JOINED": { target: "assigned", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
        "SESSION.UPDATED": { target: "assigned", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
        // users of a room whose gateway died while no other was available still leave
        "SESSION.LEFT": { guard: "isKnownSession", actions: "removeSession" },
        "SESSIONS.SYNCED": recountIdle
      }
    },
    assigning: {
      // The runtime answers within the same step (and transaction): BALANCER.DONE or BALANCER.FAILED.
      entry: ["markEntered", "selectGateway"],
      on: {
        "BALANCER.DONE": {
          target: "assigned",
          actions: ["placeOnGateway", "recordAssignment"]
        },
        "BALANCER.FAILED": {
          target: "idle",
          actions: letGo.unplaced
        },
        // stored mid-assignment (by an older version, or a crash): ask the balancer again
        "ROOM.LOADED": { target: "assigning", reenter: true, actions: "syncSessions" }
      }
    },
    assigned: {
      entry: "markEntered",
      after: {
        // A reservation nobody used: released so its capacity returns.
        assignmentTtl: {
          guard: "isEmpty",
          target: "idle",
          actions: letGo.unused
        },
        // A young room's reservation of its expected size ends on time, not
        // at its next join or leave: its gateway's load becomes its real count.
        settleTime: { guard: "youthEnded", actions: "recordAssignment" }
      },
      on: {
        "ROOM.LOADED": recountAssigned,
        "SESSIONS.SYNCED": recountAssigned,
        "SERVER.REQUESTED": [
          // While nobody has joined, requests renew the reservation (restarting its TTL).
          { guard: and(["isEmpty", "renewalDue"]), target: "assigned", reenter: true, actions: ["markRenewed", "touchAssignment"] },
          { guard: "touchDue", actions: ["markTouched", "touchAssignment"] }
        ],
        "SESSION.JOINED": [
          // the first user decides where the room is: the gateway they are on
          { guard: "isEmpty", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
          { guard: "isKnownSession", actions: [] },
          { actions: ["addSession", "recordAssignment"] }
        ],
        "SESSION.UPDATED": [
          { guard: "isEmpty", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
          // a keepalive of a session the room counts changes nothing
          { guard: "isKnownSession", actions: [] },
          { actions: ["addSession", "recordAssignment"] }
        ],
        "SESSION.LEFT": [
          { guard: "isLastSession", target: "draining", actions: ["removeSession", "recordAssignment"] },
          { guard: "isKnownSession", actions: ["removeSession", "recordAssignment"] }
        ],
        "GATEWAY.DOWN": {
          // moved to another gateway, keeping its region and its users
          guard: "isRoomGateway",
          target: "assigning",
          actions: "avoidGateway"
        },
        // An operator frees a reservation nobody uses; a room in use keeps it.
        "RELEASE.REQUESTED": {
          guard: "isEmpty",
          target: "idle",
          actions: letGo.byAdmin
        },
        "REASSIGN.REQUESTED": [
          // where the balancer chooses, as a failover: avoiding its gateway, keeping its region and its users
          { guard: "namesNoGateway", target: "assigning", actions: "avoidGateway" },
          // where the operator says, at once (a new reservation there, with its own TTL)
          {
            guard: "namesOtherGateway",
            target: "assigned",
            reenter: true,
            actions: [
              "moveToGateway",
              "recordAssignment",
              { type: "log", params: { level: "info", message: "Moved room to another gateway", reason: "requested by admin" } }
            ]
          }
        ]
      }
    },
    draining: {
      entry: "markEntered",
      after: {
        drainGrace: {
          target: "idle",
          actions: letGo.drained
        }
      },
      on: {
        "ROOM.LOADED": adoptFound,
        "SESSIONS.SYNCED": adoptFound,
        // A reconnect within the grace keeps its gateway.
        "SERVER.REQUESTED": { target: "assigned", actions: ["markRenewed", "touchAssignment"] },
        "SESSION.JOINED": { target: "assigned", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
        "SESSION.UPDATED": { target: "assigned", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
        "RELEASE.REQUESTED": {
          target: "idle",
          actions: letGo.byAdmin
        },
        // Nobody is on it: free the room instead of sending a reconnect to a dead gateway.
        "GATEWAY.DOWN": {
          guard: "isRoomGateway",
          target: "idle",
          actions: letGo.underDeadGateway
        }
      }
    }
  }
})

export type RoomMachine = typeof roomMachine
