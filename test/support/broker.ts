// An MQTT broker for a test: the real one at MQTT_URL (CI runs Mosquitto),
// else an in-process aedes broker. A relay in front lets a test "restart"
// the broker under the service.
import { Aedes } from "aedes"
import { Effect } from "effect"
import mqtt from "mqtt"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { connect, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./process.ts"
import { tcpRelay } from "./proxy.ts"
import { collectLogs, eventually, expectStatus, serviceOnFreshDatabase, unique } from "./service.ts"

export const realBrokerUrl = process.env.MQTT_URL

/** The broker tests run against, as their names say it. */
export const brokerName = realBrokerUrl === undefined ? "in-process broker" : "Mosquitto"

/** An aedes broker in this process, whatever MQTT_URL says (for tests whose messages must reach no other test). */
export const inProcessBroker = Effect.acquireRelease(
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
    /** A string or bytes as they are; anything else as JSON. */
    publish: (topic: string, payload: unknown, retain = false) =>
      Effect.promise(() =>
        client.publishAsync(
          topic,
          typeof payload === "string" ? payload : payload instanceof Uint8Array ? Buffer.from(payload) : JSON.stringify(payload),
          { qos: 1, retain }
        )
      ).pipe(Effect.asVoid)
  })))

/**
 * The service on a fresh database, its MQTT through a relay to the test's
 * broker, with gateways and a room of its own (named after a fresh tag, so
 * services of tests beside it on the same broker ignore its messages), once
 * /ready says it is connected; with a publisher straight to the broker and
 * the service's log lines.
 */
export const serviceOverMqtt = <Room extends number | string = number>(options: {
  /** How many gateways (`mq<tag>0`, `mq<tag>1`, …); one unless given. */
  readonly gateways?: number
  /** The room's id; a number from 70000 unless given. */
  readonly room?: (tag: string) => Room
  /** Whether the room is created with the first gateway as its default; it is unless given. */
  readonly onGateway?: boolean
  readonly env?: (gateways: ReadonlyArray<string>) => Record<string, string>
} = {}) =>
  Effect.gen(function*() {
    const tag = unique()
    const gateways = Array.from({ length: options.gateways ?? 1 }, (_, i) => `mq${tag}${i}`)
    const room = options.room?.(tag) ?? (70_000 + Math.floor(Math.random() * 900_000)) as Room
    const { broker, relay, serviceUrl } = yield* relayedBroker
    const logs = collectLogs()
    const { api } = yield* serviceOnFreshDatabase({
      SCALE: "true",
      MQTT_URL: serviceUrl,
      AVAILABLE_JANUS_SERVERS: gateways.join(","),
      ...options.env?.(gateways)
    }, logs.logger)
    for (const name of gateways) expectStatus(yield* api.post("/admin/gateways", { name }), 201)
    const onGateway = options.onGateway === false ? {} : { default_gateway: gateways[0] }
    expectStatus(yield* api.post("/admin/rooms", { room, name: `MQTT ${tag}`, ...onGateway }), 201)
    yield* eventually(Effect.flatMap(api.get("/ready"), (r) => (r.status === 200 ? Effect.void : Effect.fail(r))))
    const pub = yield* publisher(broker)
    return { api, pub, relay, logs, tag, gateways, gateway: gateways[0]!, room }
  })

/** Mosquitto's program, when installed (it has shared subscriptions; the in-process broker does not). */
export const mosquittoPath = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].find((p) => existsSync(p))

/** A Mosquitto of this test's own on a free loopback port, stopped when the scope closes. */
export const privateMosquitto = Effect.acquireRelease(
  Effect.promise(async () => {
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-mqtt-"))
    const config = join(dir, "mosquitto.conf")
    writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`)
    const child = spawn(mosquittoPath!, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] })
    const deadline = Date.now() + 10_000
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.end()
          resolve(true)
        })
        socket.on("error", () => resolve(false))
      })
      if (up) break
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`mosquitto did not start on ${port}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    return { child, dir, host: "127.0.0.1", port, url: `mqtt://127.0.0.1:${port}` }
  }),
  ({ child, dir }) =>
    Effect.promise(async () => {
      child.kill("SIGTERM")
      if (child.exitCode === null) await once(child, "exit")
      rmSync(dir, { recursive: true, force: true })
    })
)
