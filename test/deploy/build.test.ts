// The service as the container image runs it: `npm run build` compiles it to
// JavaScript, laid out as the image's /app (package.json, node_modules, dist/),
// and the Dockerfile's own CMD and HEALTHCHECK run it with plain node: no tsx,
// type stripping off, so any .ts left in the import graph fails.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { envFor, freshDatabase } from "../support/database.ts"
import { imageCmd, imageEnv, imageHealthcheck, runtimeStage } from "../support/dockerfile.ts"
import { freePort, root, waitForHttp } from "../support/process.ts"

const app = mkdtempSync(join(tmpdir(), "room-orchestrator-image-"))
const stage = runtimeStage()

const run = (command: string, args: ReadonlyArray<string>, options: { cwd: string; env: Record<string, string> }) => {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: `${root}node_modules/.bin:${process.env.PATH ?? ""}`, HOME: process.env.HOME ?? "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = once(child, "exit").then(([code, signal]) => (code ?? signal) as number | string)
  return { child, output: () => output, exited }
}

/** A command of the image (`node …`), run by this Node with type stripping off, in the /app-like directory. */
const runInImage = ([command, ...args]: Array<string>, env: Record<string, string>) => {
  assert.strictEqual(command, "node", "the image runs node directly")
  return run(process.execPath, ["--no-experimental-strip-types", ...args], { cwd: app, env })
}

const healthcheck = (listen: string) => runInImage(imageHealthcheck(stage), { LISTEN_ADDRESS: listen }).exited

const running: Array<ChildProcess> = []

beforeAll(async () => {
  const build = run("npm", ["run", "--silent", "build", "--", "--out", join(app, "dist")], { cwd: root, env: {} })
  assert.strictEqual(await build.exited, 0, build.output())
  copyFileSync(`${root}package.json`, join(app, "package.json"))
  symlinkSync(`${root}node_modules`, join(app, "node_modules"))
}, 120_000) // tsc takes ~10 s alone, longer beside the rest of the suite

afterAll(() => {
  for (const child of running) child.kill("SIGKILL")
  rmSync(app, { recursive: true, force: true })
})

describe("npm run build", () => {
  it("emits JavaScript, the migrations and the inspector page's sources, and no TypeScript to run", () => {
    assert.isTrue(existsSync(join(app, "dist/src/main.js")))
    assert.deepStrictEqual(
      readdirSync(join(app, "dist/migrations")).sort(),
      readdirSync(`${root}migrations`).filter((f) => f.endsWith(".sql")).sort()
    )
    assert.isTrue(existsSync(join(app, "dist/src/inspect/page/index.html")))
    const typescript = readdirSync(join(app, "dist"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.startsWith("src/inspect/page/"))
    assert.deepStrictEqual(typescript, [])
  })

  it.effect("the image's command migrates, serves the API and the inspector page, and stops with 0 on SIGTERM", () =>
    Effect.gen(function*() {
      const env = envFor(yield* freshDatabase)
      const seed = runInImage(["node", "dist/src/cli/seed.js"], env)
      assert.strictEqual(yield* Effect.promise(() => seed.exited), 0, seed.output())
      assert.include(seed.output(), "Seeded 12 gateways and 12 rooms")

      const port = yield* Effect.promise(freePort)
      const listen = `127.0.0.1:${port}`
      const base = `http://${listen}`
      const service = runInImage(imageCmd(stage), { ...env, LISTEN_ADDRESS: listen, SEED: "none" })
      running.push(service.child)
      const health = yield* Effect.promise(() => waitForHttp(`${base}/health_check`, 30_000))
      assert.strictEqual(health.status, 200, service.output())
      assert.deepStrictEqual(yield* Effect.promise(() => health.json()), { status: "ok" })

      const server = yield* Effect.promise(() =>
        fetch(`${base}/v2/room_server`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ room: 2171 }) })
      )
      assert.strictEqual(server.status, 200)
      assert.deepStrictEqual(yield* Effect.promise(() => server.json()), { janus: "gxy1" })

      const page = yield* Effect.promise(() => fetch(`${base}/inspect`))
      assert.strictEqual(page.status, 200)
      assert.include(yield* Effect.promise(() => page.text()), "/inspect/app.js")
      // Bundled by esbuild from the copied sources on first request.
      const script = yield* Effect.promise(() => fetch(`${base}/inspect/app.js`))
      assert.strictEqual(script.status, 200, service.output())
      assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/)
      assert.isAbove((yield* Effect.promise(() => script.text())).length, 10_000)

      assert.strictEqual(yield* Effect.promise(() => healthcheck(listen)), 0)
      service.child.kill("SIGTERM")
      assert.strictEqual(yield* Effect.promise(() => service.exited), 0, service.output())
      assert.include(service.output(), "Migrations up to date")
      assert.include(service.output(), "message=Stopped")
      assert.strictEqual(yield* Effect.promise(() => healthcheck(listen)), 1)
    }))

  it("with the image's defaults and no authentication setting, the built service refuses to start", async () => {
    const defaults = imageEnv(stage)
    assert.strictEqual(defaults.LISTEN_ADDRESS, "0.0.0.0:8081")
    const service = runInImage(imageCmd(stage), { ...defaults, DATA_DIR: join(app, "unused") })
    running.push(service.child)
    assert.strictEqual(await service.exited, 2)
    assert.include(service.output(), "Refusing to listen on 0.0.0.0:8081 without authentication")
  })
})
