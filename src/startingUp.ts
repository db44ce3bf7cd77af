// What start-up is waiting for (the database, say), told by the part that
// waits to the listener that answers while the service starts.
import { Context, type Effect } from "effect"

export class StartingUp extends Context.Service<StartingUp, {
  /** Start-up now waits for this (shown by /ready with a 503), until it serves. */
  readonly waitingFor: (reason: string) => Effect.Effect<void>
}>()("room-orchestrator/StartingUp") {}
