// Room changes as they happen: every committed step of a Room entity is
// published here and the inspection stream subscribes. With several
// processes each change is also sent to the others (a notice through
// Postgres), which publish it into their own feed: every process's feed
// carries every room.
import { Context, Effect, Layer, Option, PubSub, Schema, type Scope, Stream } from "effect"
import { Notices } from "../db/notices.ts"
import { RoomStatus } from "./roomProtocol.ts"

/** The transition a step took, as appended to the room's log. */
const ChangedTransition = Schema.Struct({
  seq: Schema.Number,
  from: Schema.String,
  event: Schema.String,
  to: Schema.String,
  gateway: Schema.NullOr(Schema.String),
  /** epoch ms */
  at: Schema.Number
})
export type ChangedTransition = typeof ChangedTransition.Type

/** A room's status right after one of its steps was committed. */
const RoomChange = Schema.Struct({
  ...RoomStatus.fields,
  /** The transition this step took; null when only its sessions or timers changed. */
  transition: Schema.NullOr(ChangedTransition),
  /** When the step was committed, epoch ms. */
  at: Schema.Number
})
export type RoomChange = typeof RoomChange.Type

/** A change and its position in this process's feed: a gap in positions means the reader fell behind. */
export interface FeedItem {
  readonly position: number
  readonly change: RoomChange
}

/**
 * Changes a slow reader may lag behind before the oldest are dropped for it
 * (it then sees a gap and reloads); publishing never waits for readers.
 */
export const feedCapacity = 4096

type Status = Omit<RoomChange, "transition" | "at">

/** The change a Room entity publishes after committing a step. */
export const roomChange = (status: Status, transition: Omit<ChangedTransition, "at"> | undefined, now = Date.now()): RoomChange => ({
  ...status,
  transition: transition === undefined ? null : { ...transition, at: now },
  at: now
})

export class RoomChanges extends Context.Service<RoomChanges, {
  readonly publish: (change: RoomChange) => Effect.Effect<void>
  /** The changes published from now on, for as long as the scope is open. */
  readonly subscribe: Effect.Effect<Stream.Stream<FeedItem>, never, Scope.Scope>
}>()("room-orchestrator/RoomChanges") {
  static readonly layer = Layer.effect(RoomChanges, Effect.gen(function*() {
    const notices = yield* Notices
    const pubsub = yield* Effect.acquireRelease(PubSub.sliding<FeedItem>(feedCapacity), PubSub.shutdown)
    let position = 0
    const local = (change: RoomChange) => Effect.suspend(() => PubSub.publish(pubsub, { position: ++position, change })).pipe(Effect.asVoid)

    if (notices.shared) {
      const decode = Schema.decodeUnknownOption(RoomChange)
      yield* (yield* notices.subscribe).pipe(
        Stream.runForEach((notice) => {
          // Notices may have been missed while the listening connection was
          // away: the next change comes with a gap in positions, and readers
          // that keep anything from the feed start over.
          if (notice._tag === "Resync") return Effect.sync(() => void position++)
          if (notice.topic !== topic) return Effect.void
          return Option.match(decode(notice.body), {
            onNone: () => Effect.logWarning("Dropped a room change from another process that cannot be read"),
            onSome: local
          })
        }),
        Effect.forkScoped
      )
    }
    return {
      publish: (change) => notices.shared ? Effect.andThen(local(change), notices.send(topic, change)) : local(change),
      subscribe: Effect.map(PubSub.subscribe(pubsub), Stream.fromSubscription)
    }
  }))
}

const topic = "room"
