// The lifecycle of one room: idle → assigning → assigned → draining.
// Pure: no I/O and no Effect. Actions and delays are only named here; the
// Room entity (src/rooms/) steps this machine with XState's pure
// `transition` and carries out the actions it returns (run the balancer,
// write the assignment, keep timers as stored deadlines).
import { assign, setup } from "xstate"

export interface RoomContext {
  /** The room number (the Janus videoroom id). */
  readonly room: number
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
}

export type RoomEvent =
  | { readonly type: "SERVER.REQUESTED"; readonly country?: string | undefined }
  | { readonly type: "SESSION.JOINED"; readonly session: string; readonly gateway: string }
  | { readonly type: "SESSION.UPDATED"; readonly session: string; readonly gateway: string }
  | { readonly type: "SESSION.LEFT"; readonly session: string }
  | { readonly type: "GATEWAY.DOWN"; readonly gateway: string }
  | { readonly type: "BALANCER.DONE"; readonly gateway: string; readonly region: string | null }
  | { readonly type: "BALANCER.FAILED"; readonly reason: string }

export type RoomState = "idle" | "assigning" | "assigned" | "draining"
export const roomStates: ReadonlyArray<RoomState> = ["idle", "assigning", "assigned", "draining"]

/** Why an assignment is given up: each is logged and counted differently. */
export type ReleaseReason = "drain grace elapsed" | "reservation unused" | "no gateway available" | "gateway down while draining"

type SessionEvent = Extract<RoomEvent, { session: string }>

const withSession = (sessions: ReadonlyArray<string>, id: string) => (sessions.includes(id) ? sessions : [...sessions, id])
const withoutSession = (sessions: ReadonlyArray<string>, id: string) => sessions.filter((s) => s !== id)

export const initialRoomContext = (room: number): RoomContext => ({
  room,
  gateway: null,
  region: null,
  country: null,
  sessions: [],
  avoid: null
})

export const roomMachine = setup({
  types: {
    context: {} as RoomContext,
    events: {} as RoomEvent,
    input: {} as { readonly room: number }
  },
  actions: {
    // Named only: the runtime carries these out.
    selectGateway: () => {},
    recordAssignment: () => {},
    touchAssignment: () => {},
    releaseAssignment: (_, _params: { readonly reason: ReleaseReason }) => {},
    addSession: assign({
      sessions: ({ context, event }) => withSession(context.sessions, (event as SessionEvent).session)
    }),
    removeSession: assign({
      sessions: ({ context, event }) => withoutSession(context.sessions, (event as SessionEvent).session)
    }),
    // A room already in use on a gateway stays there: never split it.
    adoptSessionGateway: assign(({ context, event }) => {
      const gateway = (event as SessionEvent & { gateway: string }).gateway
      return { gateway, region: gateway === context.gateway ? context.region : null, avoid: null }
    }),
    forgetGateway: assign({ gateway: null, region: null, country: null, avoid: null })
  },
  guards: {
    isLastSession: ({ context, event }) =>
      context.sessions.length === 1 && context.sessions[0] === (event as SessionEvent).session,
    isEmpty: ({ context }) => context.sessions.length === 0,
    isRoomGateway: ({ context, event }) => (event as Extract<RoomEvent, { type: "GATEWAY.DOWN" }>).gateway === context.gateway
  },
  delays: {
    // SPEC defaults; the runtime provides the configured DRAIN_GRACE and ASSIGNMENT_TTL.
    drainGrace: 30_000,
    assignmentTtl: 120_000
  }
}).createMachine({
  id: "room",
  initial: "idle",
  context: ({ input }) => initialRoomContext(input.room),
  states: {
    idle: {
      on: {
        "SERVER.REQUESTED": {
          target: "assigning",
          actions: assign({ country: ({ event }) => event.country?.toUpperCase() ?? null, avoid: null })
        },
        "SESSION.JOINED": { target: "assigned", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
        "SESSION.UPDATED": { target: "assigned", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
        "SESSION.LEFT": { actions: "removeSession" }
      }
    },
    assigning: {
      entry: "selectGateway",
      on: {
        "BALANCER.DONE": {
          target: "assigned",
          actions: [
            assign({ gateway: ({ event }) => event.gateway, region: ({ event }) => event.region, avoid: null }),
            "recordAssignment"
          ]
        },
        "BALANCER.FAILED": {
          target: "idle",
          actions: [{ type: "releaseAssignment", params: { reason: "no gateway available" } }, "forgetGateway"]
        },
        "SESSION.JOINED": { actions: "addSession" },
        "SESSION.UPDATED": { actions: "addSession" },
        "SESSION.LEFT": { actions: "removeSession" }
      }
    },
    assigned: {
      after: {
        // A reservation nobody used: released so its capacity returns.
        assignmentTtl: {
          guard: "isEmpty",
          target: "idle",
          actions: [{ type: "releaseAssignment", params: { reason: "reservation unused" } }, "forgetGateway"]
        }
      },
      on: {
        "SERVER.REQUESTED": [
          // While nobody has joined, each request renews the reservation.
          { guard: "isEmpty", target: "assigned", reenter: true, actions: "touchAssignment" },
          { actions: "touchAssignment" }
        ],
        "SESSION.JOINED": [
          { guard: "isEmpty", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
          { actions: ["addSession", "touchAssignment"] }
        ],
        "SESSION.UPDATED": [
          { guard: "isEmpty", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
          { actions: ["addSession", "touchAssignment"] }
        ],
        "SESSION.LEFT": [
          { guard: "isLastSession", target: "draining", actions: "removeSession" },
          { actions: "removeSession" }
        ],
        "GATEWAY.DOWN": {
          guard: "isRoomGateway",
          target: "assigning",
          actions: assign({ avoid: ({ context }) => context.gateway })
        }
      }
    },
    draining: {
      after: {
        drainGrace: {
          target: "idle",
          actions: [{ type: "releaseAssignment", params: { reason: "drain grace elapsed" } }, "forgetGateway"]
        }
      },
      on: {
        // A reconnect within the grace keeps its gateway.
        "SERVER.REQUESTED": { target: "assigned", actions: "touchAssignment" },
        "SESSION.JOINED": { target: "assigned", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
        "SESSION.UPDATED": { target: "assigned", actions: ["adoptSessionGateway", "addSession", "recordAssignment"] },
        "SESSION.LEFT": { actions: "removeSession" },
        // Nobody is on it: free the room instead of sending a reconnect to a dead gateway.
        "GATEWAY.DOWN": {
          guard: "isRoomGateway",
          target: "idle",
          actions: [{ type: "releaseAssignment", params: { reason: "gateway down while draining" } }, "forgetGateway"]
        }
      }
    }
  }
})

export type RoomMachine = typeof roomMachine
