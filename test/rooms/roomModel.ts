// An abstract model of a room's lifecycle as a client sees it, without the
// machine's internals (no balancer step, no timers as such): model-based
// tests walk its paths and drive the real Room entity along each one.
import { assign, setup } from "xstate"

export type ModelEvent =
  | { type: "REQUEST" }
  | { type: "REQUEST_WITHOUT_GATEWAYS" }
  | { type: "JOIN" }
  | { type: "LEAVE" }
  | { type: "GATEWAY_DOWN" }
  | { type: "TTL_EXPIRES" }
  | { type: "GRACE_ELAPSES" }

/** At most this many users, to keep the state space finite. */
export const maxUsers = 2

export const roomModel = setup({
  types: { context: {} as { users: number }, events: {} as ModelEvent },
  guards: {
    roomForMore: ({ context }) => context.users < maxUsers,
    lastUser: ({ context }) => context.users === 1
  },
  actions: {
    join: assign({ users: ({ context }) => context.users + 1 }),
    leave: assign({ users: ({ context }) => context.users - 1 })
  }
}).createMachine({
  id: "roomModel",
  initial: "idle",
  context: { users: 0 },
  states: {
    idle: {
      on: {
        REQUEST: "reserved",
        REQUEST_WITHOUT_GATEWAYS: "idle",
        JOIN: { target: "occupied", actions: "join" }
      }
    },
    // assigned, nobody joined yet
    reserved: {
      on: {
        JOIN: { target: "occupied", actions: "join" },
        GATEWAY_DOWN: "moved",
        TTL_EXPIRES: "idle"
      }
    },
    // assigned again after its gateway went down (a distinct model state so paths cover it)
    moved: {
      on: {
        JOIN: { target: "occupied", actions: "join" },
        TTL_EXPIRES: "idle"
      }
    },
    occupied: {
      on: {
        REQUEST: "occupied",
        JOIN: { guard: "roomForMore", actions: "join" },
        LEAVE: [{ guard: "lastUser", target: "draining", actions: "leave" }, { actions: "leave" }]
      }
    },
    draining: {
      on: {
        REQUEST: "reserved",
        JOIN: { target: "occupied", actions: "join" },
        GRACE_ELAPSES: "idle",
        GATEWAY_DOWN: "idle"
      }
    }
  }
})

/** The state the entity reports for a model state. */
export const entityState = (modelState: string) =>
  modelState === "reserved" || modelState === "moved" || modelState === "occupied" ? "assigned" : modelState
