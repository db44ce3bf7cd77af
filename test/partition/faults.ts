// The faults, each held longer than CLUSTER_LOCK_EXPIRATION, then healed.
import type { LabDeployment } from "./deployment.ts"
import type { Lab } from "./network.ts"

export interface FaultContext {
  readonly lab: Lab
  readonly deployment: LabDeployment
  /** How long the fault is held, ms. */
  readonly hold: number
  /** Called when the fault is in force and when it is healed, for the timeline. */
  readonly mark: (what: string) => void
}

export interface Fault {
  readonly name: string
  /** The runner it strikes. */
  readonly runner: number
  readonly describe: (hold: number) => string
  /** Whether the harness leaves rooms of the struck runner with timers due while the fault holds (main.ts, staleTimers). */
  readonly staleTimers?: boolean
  readonly run: (ctx: FaultContext) => Promise<void>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Applies a fault, holds it, and heals it whatever happens; each marked with what `apply` and `heal` answer. */
const held = async ({ hold, mark }: FaultContext, apply: () => string, heal: () => string) => {
  mark(apply())
  try {
    await sleep(hold)
  } finally {
    mark(heal())
  }
}

/** One-way delay each direction: together 200 ms more per round trip to Postgres. */
export const databaseDelay = 100
export const databaseLoss = 5
export const clockStep = 30

export const faults: ReadonlyArray<Fault> = [
  {
    name: "pause",
    runner: 1,
    staleTimers: true,
    describe: (hold) => `runner 1 SIGSTOP for ${hold / 1000} s, then SIGCONT`,
    run: (ctx) =>
      held(ctx, () => (ctx.deployment.pause(1), "SIGSTOP"), () => (ctx.deployment.resume(1), "SIGCONT"))
  },
  {
    name: "database-cut",
    runner: 2,
    describe: (hold) => `runner 2 cut from Postgres (its clients and peers still reach it) for ${hold / 1000} s`,
    run: (ctx) =>
      held(ctx, () => (ctx.lab.cutFrom(2, [ctx.deployment.databasePort(2)]), "cut from Postgres"), () => (ctx.lab.heal(2), "healed"))
  },
  {
    name: "peer-cut",
    runner: 0,
    describe: (hold) => `runner 0 cut from the other runners (it still reaches Postgres, the broker and its clients) for ${hold / 1000} s`,
    run: (ctx) => held(ctx, () => (ctx.lab.cutFromPeers(0), "cut from peers"), () => (ctx.lab.heal(0), "healed"))
  },
  {
    name: "slow-database",
    runner: 1,
    describe: (hold) =>
      `runner 1's link to Postgres: +${2 * databaseDelay} ms per round trip (${databaseDelay} ms each way) and ${databaseLoss} % packet loss each way, for ${hold / 1000} s`,
    run: (ctx) =>
      held(ctx, () => {
        ctx.deployment.databaseDelay(1, databaseDelay)
        ctx.lab.lossTo(1, [ctx.deployment.databasePort(1)], databaseLoss)
        return "slow link"
      }, () => {
        ctx.lab.heal(1)
        ctx.deployment.databaseDelay(1, 0)
        return "healed"
      })
  },
  {
    name: "clock",
    runner: 2,
    describe: (hold) => `runner 2's wall clock stepped +${clockStep} s for ${hold / 1000} s, then −${clockStep} s for ${hold / 1000} s, then back`,
    run: async ({ deployment, hold, mark }) => {
      try {
        deployment.clock(2, clockStep)
        mark(`clock +${clockStep} s`)
        await sleep(hold)
        deployment.clock(2, -clockStep)
        mark(`clock −${clockStep} s`)
        await sleep(hold)
      } finally {
        deployment.clock(2, 0)
        mark("clock true")
      }
    }
  }
]
