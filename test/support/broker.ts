// An MQTT broker for a test: the real one at MQTT_URL (CI runs Mosquitto),
// else an in-process aedes broker. A relay in front lets a test "restart"
// the broker under the service.
import { Aedes } from "aedes"
import { Effect } from "effect"
import mqtt from "mqtt"
import { createServer } from "node:net"
import { tcpRelay } from "./proxy.ts"

export const realBrokerUrl = process.env.MQTT_URL

const inProcessBroker = Effect.acquireRelease(
  Effect.promise(async () => {
    const broker = await Aedes.createBroker()
    const server = createServer(broker.handle)
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const address = server.address()
    return { broker, server, port: typeof address === "object" && address ? address.port : 0 }
  }),
  ({ broker, server }) => Effect.promise(() => new Promise<void>((resolve) => {
    server.close()
    broker.close(() => resolve())
  }))
)

/** A broker (host, port) for this test. */
export const testBroker = realBrokerUrl === undefined
  ? Effect.map(inProcessBroker, (b) => ({ host: "127.0.0.1", port: b.port }))
  : Effect.succeed({ host: new URL(realBrokerUrl).hostname, port: Number(new URL(realBrokerUrl).port || 1883) })

/** A broker behind a relay: `relay.cut` drops the service's connection, `relay.restore` lets it back. */
export const relayedBroker = Effect.gen(function*() {
  const broker = yield* testBroker
  const relay = yield* tcpRelay(broker)
  return { broker, relay, serviceUrl: `mqtt://127.0.0.1:${relay.port}` }
})

/** A publisher connected straight to the broker. */
export const publisher = (broker: { host: string; port: number }) =>
  Effect.acquireRelease(
    Effect.promise(() => mqtt.connectAsync(`mqtt://${broker.host}:${broker.port}`, { protocolVersion: 4, reconnectPeriod: 0 })),
    (client) => Effect.promise(() => client.endAsync(true))
  ).pipe(Effect.map((client) => ({
    publish: (topic: string, payload: unknown, retain = false) =>
      Effect.promise(() =>
        client.publishAsync(topic, typeof payload === "string" ? payload : JSON.stringify(payload), { qos: 1, retain })
      ).pipe(Effect.asVoid)
  })))
