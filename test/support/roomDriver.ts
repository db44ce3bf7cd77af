// A child process that runs the production rooms runtime (SingleRunner) on
// the database its environment names, drives rooms through the steps given
// as JSON in argv[2], prints their statuses and "READY", then waits to be
// killed. Restart tests SIGKILL it mid-lifecycle.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Result } from "effect"
import { AppConfig, decodeSettings } from "../../src/config.ts"
import { readyDatabase } from "../../src/db/readyDatabase.ts"
import { loggingLayer } from "../../src/logging.ts"
import { singleProcessCluster } from "../../src/rooms/cluster.ts"
import { roomsLayer } from "../../src/rooms/layer.ts"
import { Rooms } from "../../src/rooms/roomClient.ts"
import { SessionStore } from "../../src/db/sessionStore.ts"
import { join, leave } from "./sessions.ts"

export type DriverStep =
  | { readonly room: string; readonly op: "request" }
  | { readonly room: string; readonly op: "joined" | "left"; readonly session: string; readonly gateway: string }

const settings = decodeSettings(process.env)
if (Result.isFailure(settings)) throw new Error(settings.failure.message)
const steps = JSON.parse(process.argv[2] ?? "[]") as ReadonlyArray<DriverStep>

const program = Effect.gen(function*() {
  const rooms = yield* Rooms
  for (const s of steps) {
    if (s.op === "request") yield* rooms.requestServer(s.room)
    else if (s.op === "joined") yield* join(s.room, s.session, s.gateway)
    else yield* leave(s.room, s.session)
  }
  const rooms_ = [...new Set(steps.map((s) => s.room))]
  const statuses = yield* Effect.forEach(rooms_, rooms.status)
  yield* Effect.sync(() => console.log(JSON.stringify(statuses)))
  yield* Effect.sync(() => console.log("READY"))
  return yield* Effect.never
})

program.pipe(
  Effect.provide(roomsLayer(singleProcessCluster).pipe(
    Layer.provideMerge(SessionStore.layer),
    Layer.provideMerge(readyDatabase()),
    Layer.provideMerge(AppConfig.layer(settings.success))
  )),
  Effect.provide(loggingLayer("logfmt", "warn")),
  NodeRuntime.runMain
)
