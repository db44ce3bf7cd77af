// Secure by default, as an operator starts the service: no authentication
// setting on a public address refuses to start; AUTH=none starts and warns;
// `npm run token` mints a token the service accepts.
import { afterEach, assert, describe, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort, type ServiceProcess, startService, waitForHttp } from "../support/process.ts"

const running: Array<ServiceProcess> = []
const dirs: Array<string> = []
afterEach(() => {
  for (const s of running.splice(0)) s.child.kill("SIGKILL")
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const start = (env: Record<string, string>, script?: string, args?: Array<string>) => {
  const s = startService(env, script, args)
  running.push(s)
  return s
}

const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-auth-"))
  dirs.push(dir)
  return join(dir, "data")
}

const secret = "startup-secret-of-at-least-32-bytes"

describe("start-up and authentication", () => {
  it("a public address without any authentication setting stops start-up with one line naming the variables", async () => {
    const port = await freePort()
    const s = start({ LISTEN_ADDRESS: `0.0.0.0:${port}`, DATA_DIR: dataDir() })
    assert.strictEqual(await s.exited, 2)
    const message = s.stderr().trim()
    assert.notInclude(message, "\n")
    for (const name of ["AUTH=none", "AUTH_ISSUER", "AUTH_JWT_SECRET"]) assert.include(message, name)
    assert.include(message, `0.0.0.0:${port}`)
    const everyInterface = start({ LISTEN_ADDRESS: `:${port}`, DATA_DIR: dataDir() })
    assert.strictEqual(await everyInterface.exited, 2)
  })

  it("AUTH=none on a public address starts, warns, and serves without credentials", async () => {
    const port = await freePort()
    const s = start({ LISTEN_ADDRESS: `0.0.0.0:${port}`, DATA_DIR: dataDir(), AUTH: "none" })
    const health = await waitForHttp(`http://127.0.0.1:${port}/health`, 30_000, s)
    assert.strictEqual(health.status, 200)
    const rooms = await fetch(`http://127.0.0.1:${port}/admin/rooms`)
    assert.strictEqual(rooms.status, 200)
    assert.match(s.output(), /level=WARN .*Authentication is off \(AUTH=none\) on 0\.0\.0\.0:\d+: anyone who reaches it can change gateways, rooms and sessions/)
    s.child.kill("SIGTERM")
    assert.strictEqual(await s.exited, 0)
  })

  it("npm run token mints an HS256 token that opens the admin routes; without AUTH_JWT_SECRET it exits 2", async () => {
    const missing = start({}, "src/cli/token.ts", ["--role", "gxy_admin"])
    assert.strictEqual(await missing.exited, 2)
    assert.include(missing.stderr(), "AUTH_JWT_SECRET is not set")

    const minted = start({ AUTH_JWT_SECRET: secret }, "src/cli/token.ts", ["--role", "gxy_admin", "--sub", "alice", "--ttl", "10m"])
    assert.strictEqual(await minted.exited, 0)
    const token = minted.output().split("\n")[0]!.trim()
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/)
    const viewer = start({ AUTH_JWT_SECRET: secret }, "src/cli/token.ts", ["--role", "gxy_viewer"])
    assert.strictEqual(await viewer.exited, 0)
    const viewerToken = viewer.output().split("\n")[0]!.trim()

    const port = await freePort()
    const s = start({ LISTEN_ADDRESS: `0.0.0.0:${port}`, DATA_DIR: dataDir(), AUTH_JWT_SECRET: secret })
    await waitForHttp(`http://127.0.0.1:${port}/health`, 30_000, s)
    const url = `http://127.0.0.1:${port}/admin/gateways`
    assert.strictEqual((await fetch(url)).status, 401)
    assert.strictEqual((await fetch(url, { headers: { authorization: `Bearer ${viewerToken}` } })).status, 403)
    const allowed = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    assert.strictEqual(allowed.status, 200)
    assert.strictEqual(((await allowed.json()) as Array<unknown>).length, 12)
    s.child.kill("SIGTERM")
    assert.strictEqual(await s.exited, 0)
    assert.include(s.output(), "Authentication is on")
    assert.notInclude(s.output(), token)
    assert.notInclude(s.output(), secret)
  })
})
