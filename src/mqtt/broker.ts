// The MQTT connection: connects to MQTT_URL, subscribes to our topics on
// every (re)connect, reconnects with backoff (250 ms doubling up to 2 s), and hands every
// message to a queue. Without MQTT_URL there is no broker and nothing here runs.
// With several processes, sessions and events are shared subscriptions (the
// broker hands each message to one process of the group); gateway status
// goes to every process.
import { Context, Effect, Layer, Option, Queue } from "effect"
import mqtt from "mqtt"
import { AppConfig } from "../config.ts"
import { firstRetryMillis, maxRetryMillis } from "../reconnect.ts"

export const topics = ["gxydb/events/#", "gxydb/users/#", "janus/+/status"] as const

/** The group the processes of one deployment share session and event messages in. */
export const shareGroup = "room-orchestrator"

/** What a process subscribes to: alone, every topic; one of several, sessions and events shared. */
export const subscriptions = (shared: boolean): ReadonlyArray<string> =>
  topics.map((t) => (shared && t.startsWith("gxydb/") ? `$share/${shareGroup}/${t}` : t))

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
    const config = yield* AppConfig
    if (config.mqttUrl === undefined) return Option.none()
    const { url, username, password } = credentialsOf(config.mqttUrl)
    return Option.some(yield* connect(url, subscriptions(config.clusterRunnerAddress !== undefined), {
      username: config.mqttUsername ?? username,
      password: config.mqttPassword ?? password,
      clientId: config.mqttClientId
    }))
  }))
}

/**
 * The URL without its userinfo, and that userinfo percent-decoded: the MQTT
 * client would split `user:pa:ss` at the last colon and ignore explicit
 * credentials whenever the URL has some. MQTT_USERNAME and MQTT_PASSWORD win
 * over the URL's.
 */
export const credentialsOf = (text: string) => {
  const url = new URL(text)
  const username = url.username === "" ? undefined : decodeURIComponent(url.username)
  const password = url.password === "" ? undefined : decodeURIComponent(url.password)
  url.username = ""
  url.password = ""
  return { url: url.toString(), username, password }
}

// A broker back after an outage of any length is rejoined within 2 s.
const firstRetry = firstRetryMillis
const lastRetry = maxRetryMillis

const connect = (url: string, subscribed: ReadonlyArray<string>, credentials: { username: string | undefined; password: string | undefined; clientId: string | undefined }) =>
  Effect.gen(function*() {
    const messages = yield* Queue.unbounded<BrokerMessage>()
    const client = yield* Effect.acquireRelease(
      Effect.sync(() =>
        mqtt.connect(url, {
          ...(credentials.username !== undefined ? { username: credentials.username } : {}),
          ...(credentials.password !== undefined ? { password: credentials.password } : {}),
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
      client.subscribe([...subscribed], { qos: 1 }, (error) => {
        if (error) log("MQTT subscribe failed", { reason: error.message })
      })
      log("MQTT connected", { topics: subscribed.join(" ") })
    })
    // Each failed attempt waits twice as long as the last, up to 2 s.
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
