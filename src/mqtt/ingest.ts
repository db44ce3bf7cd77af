// MQTT ingest: routes each message to what the HTTP endpoints do.
// gxydb/events/# → Janus events (as POST /event), gxydb/users/# → keepalives
// (as PUT /users/:id), janus/<name>/status → gateway health. A malformed
// message is logged with its topic and dropped; nothing here can stop the
// service. Messages of one topic are handled in order.
import { Cause, Effect, Layer, Option, Queue, Schema } from "effect"
import { AppConfig } from "../config.ts"
import { DatabaseOutage } from "../db/databaseOutage.ts"
import { GatewayHealth } from "../gateways/health.ts"
import { countMqttMessage, mqttTopicKind } from "../metrics/events.ts"
import { GatewayStatusMessage, JanusEvents, UserId, UserSessionBody } from "../sessions/wireSchemas.ts"
import { Sessions } from "../sessions/sessions.ts"
import { Broker, type BrokerMessage } from "./broker.ts"

const partitions = 8

const hash = (text: string) => {
  let h = 0
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0
  return Math.abs(h) % partitions
}

class Dropped extends Schema.TaggedError<Dropped>()("Dropped", { reason: Schema.String }) {}

const json = (payload: Uint8Array) =>
  Effect.try({
    try: () => JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload)) as unknown,
    catch: () => new Dropped({ reason: "not JSON" })
  })

const decode = <S extends Schema.Codec<unknown, unknown>>(schema: S, input: unknown) =>
  Schema.decodeUnknownEffect(schema)(input).pipe(
    Effect.mapError((e) => new Dropped({ reason: e.message.replace(/\s*\n\s*/g, " ") }))
  ) as Effect.Effect<S["Type"], Dropped>

export const MqttIngest = Layer.effectDiscard(Effect.gen(function*() {
  const broker = yield* Broker
  if (Option.isNone(broker)) return
  const config = yield* AppConfig
  const sessions = yield* Sessions
  const health = yield* GatewayHealth
  const outage = yield* DatabaseOutage

  const handle = ({ topic, payload }: BrokerMessage) =>
    Effect.gen(function*() {
      // One message cannot hold up its lane: too large, or too many events, it is not read at all.
      if (payload.length > config.mqttMaxMessage) {
        return yield* new Dropped({ reason: `${payload.length} bytes, over MQTT_MAX_MESSAGE (${config.mqttMaxMessage})` })
      }
      const parts = topic.split("/")
      const status = parts[0] === "janus" && parts[2] === "status" && parts.length === 3
      // An empty retained message is how an operator clears a retained status.
      if (status && payload.length === 0) {
        yield* health.report(parts[1]!, null)
        return yield* countMqttMessage("status", "handled")
      }
      const body = yield* json(payload)
      if (parts[0] === "gxydb" && parts[1] === "events") {
        if (Array.isArray(body) && body.length > config.mqttMaxBatch) {
          return yield* new Dropped({ reason: `${body.length} events, over MQTT_MAX_BATCH (${config.mqttMaxBatch})` })
        }
        yield* sessions.janusEvents(yield* decode(JanusEvents, body)).pipe(
          Effect.catchTag("BadEvent", (e) => Effect.fail(new Dropped({ reason: e.reason })))
        )
      } else if (parts[0] === "gxydb" && parts[1] === "users") {
        const user = yield* decode(UserSessionBody, body)
        const id = yield* decode(UserId, user.id || parts.slice(2).join("/"))
        yield* sessions.keepalive(id, user).pipe(
          Effect.catchTag("ProtocolError", (e) => Effect.fail(new Dropped({ reason: e.message })))
        )
      } else if (status) {
        yield* health.report(parts[1]!, (yield* decode(GatewayStatusMessage, body)).online)
      } else {
        return yield* new Dropped({ reason: "not a topic this service reads" })
      }
      yield* countMqttMessage(mqttTopicKind(topic), "handled")
    }).pipe(
      Effect.catchTag("Dropped", (e) =>
        Effect.logWarning("Dropped malformed MQTT message").pipe(
          Effect.annotateLogs({ topic, reason: e.reason }),
          Effect.andThen(countMqttMessage(mqttTopicKind(topic), "dropped"))
        )),
      // The message was good but could not be carried out now: the session
      // row or the room's count is repaired by the next keepalive or recount.
      Effect.catchTag("DatabaseUnavailable", (e) => Effect.andThen(outage.report(e), countMqttMessage(mqttTopicKind(topic), "failed"))),
      Effect.catchTag("RoomUnavailable", (e) =>
        Effect.logWarning("MQTT message not carried out").pipe(
          Effect.annotateLogs({ topic, reason: e.message }),
          Effect.andThen(countMqttMessage(mqttTopicKind(topic), "failed"))
        )),
      Effect.catchCause((cause) =>
        Effect.logError("MQTT message failed").pipe(
          Effect.annotateLogs({ topic, cause: Cause.pretty(cause) }),
          Effect.andThen(countMqttMessage(mqttTopicKind(topic), "failed"))
        ))
    )

  const lanes = yield* Effect.forEach(Array.from({ length: partitions }), () => Queue.unbounded<BrokerMessage>())
  for (const lane of lanes) {
    yield* Queue.take(lane).pipe(Effect.flatMap(handle), Effect.forever, Effect.forkScoped)
  }
  yield* Queue.take(broker.value.messages).pipe(
    Effect.flatMap((m) => Queue.offer(lanes[hash(m.topic)]!, m)),
    Effect.forever,
    Effect.forkScoped
  )
}))
