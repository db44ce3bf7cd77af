// The README's proxy for a deployment beside gxydb-api (deploy/galaxy-proxy.conf)
// run as it is in nginx, with its two upstream addresses pointed at this
// service and at a stand-in for gxydb-api: each route reaches the service
// the README says it does. Needs nginx (Debian's nginx-light); CI installs
// it and sets REQUIRE_NGINX=1, which makes a missing nginx a failure.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { backend } from "../support/database.ts"
import { freePort, root, waitForHttp } from "../support/process.ts"
import { call, serviceOnFreshDatabase } from "../support/service.ts"

const nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p))
const required = process.env.REQUIRE_NGINX === "1"

/** A stand-in for gxydb-api that says who answered. */
const gxydbApi = Effect.acquireRelease(
  Effect.promise(async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ answeredBy: "gxydb-api", method: req.method, url: req.url }))
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const address = server.address()
    return { server, port: typeof address === "object" && address ? address.port : 0 }
  }),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

/** nginx running deploy/galaxy-proxy.conf with the upstreams and listen port replaced. */
const proxy = (service: string, gxydb: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = mkdtempSync(join(tmpdir(), "galaxy-proxy-"))
      const port = await freePort()
      const conf = readFileSync(join(root, "deploy/galaxy-proxy.conf"), "utf8")
        .replace("server 127.0.0.1:8080;", `server ${gxydb};`)
        .replace("server 127.0.0.1:8081;", `server ${service};`)
        .replace("listen 80;", `listen 127.0.0.1:${port};`)
      assert.include(conf, `server ${service};`, "the file still names its upstreams as the test expects")
      writeFileSync(join(dir, "nginx.conf"), conf)
      const child = spawn(nginx!, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", "stderr", "-g", `daemon off; pid ${join(dir, "nginx.pid")};`], {
        stdio: ["ignore", "ignore", "pipe"]
      })
      let stderr = ""
      child.stderr.on("data", (d) => (stderr += d))
      await waitForHttp(`http://127.0.0.1:${port}/health_check`, 20_000).catch((e) => {
        throw new Error(`${e}\n${stderr}`)
      })
      return { child, dir, base: `http://127.0.0.1:${port}` }
    }),
    ({ child, dir }) => Effect.sync(() => {
      child.kill("SIGTERM")
      rmSync(dir, { recursive: true, force: true })
    })
  )

describe(`the proxy beside gxydb-api (${backend})`, () => {
  it.live.skipIf(nginx === undefined && !required)("sends the balancing routes here and everything else to gxydb-api", () =>
    Effect.gen(function*() {
      assert.isDefined(nginx, "nginx is not installed (apt-get install -y nginx-light)")
      const { base: service } = yield* serviceOnFreshDatabase({ SCALE: "true", ROOM_IDS_AS_STRINGS: "true" })
      const gxydb = yield* gxydbApi
      const { base } = yield* proxy(new URL(service).host, `127.0.0.1:${gxydb.port}`)
      const via = (method: string, path: string, body?: unknown) =>
        Effect.map(call(method, base + path, body), (r) => (r.body?.answeredBy === "gxydb-api" ? "gxydb-api" : "room-orchestrator"))

      const user = { room: "2171", janus: "gxy1", session: 1, rfid: "u1-abc", country: "Israel" }
      const ours: ReadonlyArray<readonly [string, string, unknown?]> = [
        ["POST", "/v2/room_server", { room: "2171" }],
        ["GET", "/groups?with_num_users=true"],
        ["GET", "/rooms"],
        ["GET", "/room/2171"],
        ["GET", "/rooms/2171"],
        ["PUT", "/rooms/2171", { room: "2171", extra: { vip: true } }],
        ["PUT", "/users/u1", user],
        ["POST", "/event", { type: 1 }]
      ]
      const theirs: ReadonlyArray<readonly [string, string]> = [
        ["GET", "/users"], ["GET", "/users/u1"], ["GET", "/v2/config"], ["GET", "/v2/rooms_statistics"], ["GET", "/qids"],
        ["GET", "/admin/rooms"], ["PUT", "/group/2171"], ["POST", "/protocol/service"]
      ]
      for (const [method, path, body] of ours) assert.strictEqual(yield* via(method, path, body), "room-orchestrator", `${method} ${path}`)
      for (const [method, path] of theirs) assert.strictEqual(yield* via(method, path), "gxydb-api", `${method} ${path}`)

      // through the proxy, what Galaxy reads: string room ids, the room's flag, the user's country name
      const groups = (yield* call("GET", `${base}/groups`)).body.rooms
      assert.deepInclude(groups.find((r: { room: string }) => r.room === "2171"), { room: "2171", extra: { vip: true } })
      assert.deepInclude((yield* call("GET", `${base}/room/2171`)).body.users[0], { id: "u1", country: "Israel", room: "2171" })
    }).pipe(Effect.scoped))
})
