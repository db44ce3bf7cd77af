// The lab's way to Postgres: one TCP relay per runner, listening on the
// lab's host address and passing bytes on to the private Postgres on
// loopback, each with a one-way delay that can be changed while it runs
// (this kernel has no netem, so latency is added here; loss is an nftables
// rule on the runner's side). Runs as a child process of its own, so the
// harness's own work never delays the database traffic. Protocol on stdin,
// one command a line: `delay <listener> <ms>`. It prints `ready <port>…`,
// then `connection <listener> <port>` for each connection it opens to
// Postgres (the port Postgres sees it from: which runner a backend serves).
//
//   node --import tsx test/partition/relay.ts <host> <targetPort> <listeners>
import { createConnection, createServer, type Server, type Socket } from "node:net"
import { createInterface } from "node:readline"

const [host, targetText, countText] = process.argv.slice(2)
const target = Number(targetText)
const count = Number(countText)

interface Listener {
  delay: number
  readonly server: Server
}

/** Writes what `from` sends to `to`, each chunk `delay()` ms after it arrived, in order. */
const delayed = (from: Socket, to: Socket, delay: () => number) => {
  const queue: Array<{ readonly at: number; readonly chunk: Buffer }> = []
  let timer: NodeJS.Timeout | undefined
  let last = 0
  const flush = () => {
    timer = undefined
    const now = performance.now()
    while (queue.length > 0 && queue[0]!.at <= now) to.write(queue.shift()!.chunk)
    if (queue.length > 0) timer = setTimeout(flush, queue[0]!.at - now)
  }
  from.on("data", (chunk) => {
    const d = delay()
    if (d <= 0 && queue.length === 0) return void to.write(chunk)
    // never before a chunk that came earlier
    last = Math.max(performance.now() + d, last)
    queue.push({ at: last, chunk })
    if (timer === undefined) timer = setTimeout(flush, Math.max(0, last - performance.now()))
  })
  from.on("end", () => {
    const finish = () => (queue.length > 0 ? setTimeout(finish, 5) : to.end())
    finish()
  })
}

const listeners: Array<Listener> = []
const sockets = new Set<Socket>()
const track = (s: Socket) => {
  sockets.add(s)
  s.on("close", () => sockets.delete(s))
  s.on("error", () => s.destroy())
}

const listen = (listener: Omit<Listener, "server">) =>
  new Promise<Listener>((resolve) => {
    const entry = listener as Listener
    const server = createServer((client) => {
      const upstream = createConnection({ host: "127.0.0.1", port: target })
      upstream.on("connect", () => console.log(`connection ${listeners.indexOf(entry)} ${upstream.localPort}`))
      track(client)
      track(upstream)
      client.setNoDelay(true)
      upstream.setNoDelay(true)
      delayed(client, upstream, () => entry.delay)
      delayed(upstream, client, () => entry.delay)
      client.on("close", () => upstream.destroy())
      upstream.on("close", () => client.destroy())
    })
    ;(entry as { server: Server }).server = server
    server.listen(0, host, () => resolve(entry))
  })

for (let i = 0; i < count; i++) listeners.push(await listen({ delay: 0 }))
const ports = listeners.map((l) => {
  const a = l.server.address()
  return typeof a === "object" && a !== null ? a.port : 0
})
console.log(`ready ${ports.join(" ")}`)

createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, index, value] = line.trim().split(/\s+/)
  if (command === "delay" && listeners[Number(index)] !== undefined) listeners[Number(index)]!.delay = Number(value)
})
process.stdin.on("end", () => {
  for (const l of listeners) l.server.close()
  for (const s of sockets) s.destroy()
  process.exit(0)
})
