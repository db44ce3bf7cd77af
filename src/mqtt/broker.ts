// The MQTT connection: connects to MQTT_URL, subscribes to our topics on
// every (re)connect, reconnects with exponential backoff, and hands every
// message to a queue. Without MQTT_URL there is no broker and nothing here runs.
import { Context, Effect, Layer, Option, Queue } from "effect"
import mqtt from "mqtt"
import { Config } from "../config.ts"

export const topics = ["gxydb/events/#", "gxydb/users/#", "janus/+/status"] as const

export interface BrokerMessage {
  readonly topic: string
  readonly payload: Uint8Array
}

export interface BrokerShape {
  readonly connected: Effect.Effect<boolean>
  readonly messages: Queue.Dequeue<BrokerMessage>
}

/** The broker, when MQTT_URL is set. */
export class Broker extends Context.Service<Broker, Option.Option<BrokerShape>>()("room-orchestrator/Broker") {
  static readonly layer = Layer.effect(Broker, Effect.gen(function*() {
    const config = yield* Config
    if (config.mqttUrl === undefined) return Option.none()
    return Option.some(yield* connect(config.mqttUrl, {
      username: config.mqttUsername,
      password: config.mqttPassword,
      clientId: config.mqttClientId
    }))
  }))
}

const firstRetry = 500
const lastRetry = 30_000

const connect = (url: string, credentials: { username: string | undefined; password: string | undefined; clientId: string | undefined }) =>
  Effect.gen(function*() {
    const messages = yield* Queue.unbounded<BrokerMessage>()
    const client = yield* Effect.acquireRelease(
      Effect.sync(() =>
        mqtt.connect(url, {
          ...(credentials.username ? { username: credentials.username } : {}),
          ...(credentials.password ? { password: credentials.password } : {}),
          clientId: credentials.clientId || `room-orchestrator-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
          reconnectPeriod: firstRetry,
          connectTimeout: 5_000,
          protocolVersion: 4
        })
      ),
      (client) => Effect.promise(() => client.endAsync(true)).pipe(Effect.ignore)
    )
    // Client callbacks log through the service's logger.
    const run = Effect.runForkWith(yield* Effect.context())
    const log = (line: string, fields: Record<string, unknown> = {}) =>
      run(Effect.logInfo(line).pipe(Effect.annotateLogs({ broker: redact(url), ...fields })))

    client.on("connect", () => {
      client.options.reconnectPeriod = firstRetry
      client.subscribe([...topics], { qos: 1 }, (error) => {
        if (error) log("MQTT subscribe failed", { reason: error.message })
      })
      log("MQTT connected", { topics: topics.join(" ") })
    })
    // Each failed attempt waits twice as long as the last, up to 30 s.
    client.on("reconnect", () => {
      client.options.reconnectPeriod = Math.min((client.options.reconnectPeriod ?? firstRetry) * 2, lastRetry)
    })
    client.on("offline", () => log("MQTT disconnected; reconnecting"))
    client.on("error", (error) => log("MQTT error", { reason: error.message }))
    client.on("message", (topic, payload) => {
      Queue.offerUnsafe(messages, { topic, payload })
    })
    return { connected: Effect.sync(() => client.connected), messages } satisfies BrokerShape
  })

const redact = (url: string) => {
  const u = new URL(url)
  return `${u.protocol}//${u.host}`
}
