// Notices between the processes of one deployment, through Postgres
// LISTEN/NOTIFY on one channel: a process that changes what others keep in
// memory (the room catalog, a room's state for the inspector) says so, and
// every other process hears it within milliseconds of the commit. A notice
// is a topic and a JSON body; readers decode bodies with their own schemas.
// After the listening connection is lost and comes back, readers get a
// `resync` (notices may have been missed). A process that is not one of
// several (no CLUSTER_RUNNER_ADDRESS) has nobody to tell: nothing is sent,
// and no connection is held for listening.
import { PgClient } from "@effect/sql-pg"
import { Context, Duration, Effect, Layer, Option, PubSub, Schedule, Schema, type Scope, Stream } from "effect"
import { AppConfig } from "../config.ts"
import { unavailable } from "./queryFailures.ts"
import { DatabaseOutage } from "./databaseOutage.ts"

const channel = "room_orchestrator"

/** What one notice may carry (Postgres refuses payloads from 8000 bytes). */
const maxPayload = 7_900

export type Notice =
  | { readonly _tag: "Notice"; readonly topic: string; readonly body: unknown }
  | { readonly _tag: "Resync" }

export class Notices extends Context.Service<Notices, {
  /** True when this process is one of several. */
  readonly shared: boolean
  /** Tells the other processes; a notice that cannot be sent is reported, never fails the caller. */
  readonly send: (topic: string, body: unknown) => Effect.Effect<void>
  /** Notices from other processes from now on, for as long as the scope is open. */
  readonly subscribe: Effect.Effect<Stream.Stream<Notice>, never, Scope.Scope>
}>()("room-orchestrator/Notices") {
  static readonly layer = Layer.effect(Notices, Effect.gen(function*() {
    const config = yield* AppConfig
    const heard = yield* Effect.acquireRelease(PubSub.unbounded<Notice>(), PubSub.shutdown)
    const subscribe = Effect.map(PubSub.subscribe(heard), Stream.fromSubscription)
    if (config.clusterRunnerAddress === undefined) return { shared: false, send: () => Effect.void, subscribe }

    const sql = yield* PgClient.PgClient
    const outage = yield* DatabaseOutage
    // Our own notices come back to us too: they carry this process's mark.
    const origin = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`

    const send = (topic: string, body: unknown) => {
      const payload = JSON.stringify({ origin, topic, body })
      if (payload.length > maxPayload) {
        return Effect.logWarning("Notice too large to send").pipe(Effect.annotateLogs({ topic, bytes: payload.length }))
      }
      return sql.notify(channel, payload).pipe(unavailable("Notices.send"), Effect.catch(outage.report))
    }

    const receive = (payload: string) => {
      const notice = parse(payload)
      return notice === undefined || notice.origin === origin
        ? Effect.void
        : PubSub.publish(heard, { _tag: "Notice", topic: notice.topic, body: notice.body })
    }

    // One listening connection for the life of the process, opened again
    // when it is lost (the database restarted): then readers resynchronize.
    const listen = Effect.scoped(Effect.gen(function*() {
      const queue = yield* sql.listen(channel)
      yield* PubSub.publish(heard, { _tag: "Resync" })
      return yield* Stream.fromQueue(queue).pipe(Stream.runForEach((n) => receive(n.payload)))
    })).pipe(unavailable("Notices.listen"))
    yield* listen.pipe(
      Effect.catch(outage.report),
      Effect.repeat(Schedule.spaced(Duration.seconds(1))),
      Effect.forkScoped
    )
    return { shared: true, send, subscribe }
  }))
}

const Envelope = Schema.fromJsonString(Schema.Struct({ origin: Schema.String, topic: Schema.String, body: Schema.Unknown }))
const parse = (payload: string) => Option.getOrUndefined(Schema.decodeUnknownOption(Envelope)(payload))
