// The reference: a bare node:http server answering the same JSON as the
// service for each benchmarked request (reads and parses the body too), so
// the service's cost is measured against Node's own floor on this machine.
import { createServer } from "node:http"

const port = Number(process.argv[2] ?? 0)
const liveRooms = Array.from({ length: Number(process.argv[3] ?? 1000) }, (_, r) => ({
  room: 100_000 + r,
  janus: `gxy${(r % 12) + 1}`,
  description: `Bench room ${r}`,
  num_users: 10,
  questions: false,
  users: Array.from({ length: 10 }, (_, u) => ({
    id: `bench-${r}-${u}`, display: `User ${u}`, email: "", janus: `gxy${(r % 12) + 1}`, camera: true, mic: false,
    screen: false, question: false, self_test: false, sound_test: false, country: "IL", joined: 1, timestamp: 2
  }))
}))

const server = createServer((req, res) => {
  let body = ""
  req.on("data", (chunk) => (body += chunk))
  req.on("end", () => {
    let answer: unknown = { error: "no such endpoint" }
    let status = 404
    if (req.method === "POST" && req.url === "/v2/room_server") {
      const parsed = JSON.parse(body) as { room: number }
      answer = { janus: `gxy${(parsed.room % 12) + 1}` }
      status = 200
    } else if ((req.method === "PUT" && req.url?.startsWith("/users/")) || (req.method === "POST" && req.url === "/event")) {
      JSON.parse(body)
      answer = { result: "success" }
      status = 200
    } else if (req.method === "GET" && req.url === "/rooms") {
      answer = liveRooms
      status = 200
    } else if (req.method === "GET" && req.url?.startsWith("/room/")) {
      answer = liveRooms[Number(req.url.slice(6)) - 100_000] ?? { error: "not found" }
      status = 200
    }
    const text = JSON.stringify(answer)
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
    res.end(text)
  })
})

server.listen(port, "127.0.0.1", () => {
  const address = server.address()
  console.log(`LISTENING ${typeof address === "object" && address ? address.port : port}`)
})
process.on("SIGTERM", () => server.close(() => process.exit(0)))
