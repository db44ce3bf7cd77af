// The strategies compared, behind one interface the simulated world drives:
// the requests, joins and leaves of users, gateway failures, and the
// strategy's own timers (our room timers, the Go cleaner).
import type { RegionPool } from "../../src/config.ts"
import { goPlacements } from "./go.ts"
import { oursPlacements } from "./ours.ts"

export interface Setup {
  /** AVAILABLE_JANUS_SERVERS, in order. */
  readonly gateways: ReadonlyArray<string>
  readonly capacity: number
  readonly avgRoomOccupancy: number
  readonly regions: ReadonlyArray<RegionPool>
  /** The first simulated moment (the warm-up's start), for periodic jobs. */
  readonly start: number
}

export interface Answer {
  readonly gateway: string
  /** True when this request made the room get a (new) assignment. */
  readonly placed: boolean
}

export interface Moved {
  readonly room: number
  readonly to: string
}

export interface Placements {
  /** POST /v2/room_server; undefined when no gateway can be given. */
  readonly request: (room: number, country: string | undefined, now: number) => Answer | undefined
  readonly joined: (room: number, user: number, gateway: string, now: number) => void
  readonly left: (room: number, user: number, now: number) => void
  /** A session that ended without a word: its gateway was dead, so nobody reported the leave. */
  readonly lost: (room: number, user: number, now: number) => void
  /** The moment a gateway crashes: its sessions stop sending keepalives. */
  readonly gatewayDied: (gateway: string, now: number) => void
  /** Its status turned offline (FAILOVER_WAIT_TIME after the crash): rooms moved, if the strategy moves any. */
  readonly gatewayDown: (gateway: string, now: number) => ReadonlyArray<Moved>
  readonly gatewayUp: (gateway: string, now: number) => void
  /** When the strategy next needs to run on its own (a room timer, the cleaner). */
  readonly nextWake: () => number | undefined
  readonly wake: (now: number) => void
  /** What the strategy did along the way, by name (releases, cleaner deletions, stale reads), for the JSON. */
  readonly counters: () => Readonly<Record<string, number>>
  /** For a strategy that predicts room sizes: how far its expectations were from the peaks that followed. */
  readonly predictionError?: () => PredictionError | undefined
}

/** Over the assignments that ended in the measured span with an expected size. */
export interface PredictionError {
  readonly assignments: number
  /** Mean |expected − peak|, users. */
  readonly meanUsers: number
  /** Σ|expected − peak| / Σ peak. */
  readonly share: number
}

/** A tally of named events in the measured span (warm-up events are not counted). */
export const makeTally = () => {
  const counts: Record<string, number> = {}
  return {
    bump: (name: string, now: number) => {
      if (now >= 0) counts[name] = (counts[name] ?? 0) + 1
    },
    counts: (): Readonly<Record<string, number>> => ({ ...counts })
  }
}

export interface Strategy {
  readonly name: string
  readonly make: (setup: Setup) => Placements
}

export const strategies: ReadonlyArray<Strategy> = [
  { name: "ours least-loaded", make: (setup) => oursPlacements(setup, "least-loaded") },
  { name: "ours least-loaded, no expected sizes", make: (setup) => oursPlacements(setup, "least-loaded", { expectedSizes: false }) },
  { name: "ours sequential", make: (setup) => oursPlacements(setup, "sequential") },
  { name: "go gen1: least distinct users", make: (setup) => goPlacements(setup, "gen1") },
  { name: "go gen2: sequential filling", make: (setup) => goPlacements(setup, "gen2") },
  { name: "go gen3: least-loaded, no lock", make: (setup) => goPlacements(setup, "gen3") }
]
