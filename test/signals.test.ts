// `npm start` as a service manager runs it: a signal to npm's pid stops the
// service gracefully, and nothing keeps listening once npm is gone.
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { connect } from "node:net"
import { backend, envFor, freshDatabase } from "./support/database.ts"
import { freePort, type ServiceProcess, startNpmScript, waitForHttp } from "./support/process.ts"

const leftovers: Array<number> = []
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    if (alive(pid)) process.kill(pid, "SIGKILL")
  }
})

// A zombie (exited, not yet reaped by whoever adopted it) counts as gone.
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

/** The processes npm started (with `exec` in the script, only the service itself). */
const childrenOf = (pid: number): Array<number> => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter((s) => s !== "").map(Number)
  } catch {
    return []
  }
}

const descendantsOf = (pid: number): Array<number> => childrenOf(pid).flatMap((child) => [child, ...descendantsOf(child)])

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

const waitUntil = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** `npm start` on a fresh database, ready; answers npm, the processes it started and the port. */
const npmStart = Effect.gen(function*() {
  const env = envFor(yield* freshDatabase)
  const port = yield* Effect.promise(freePort)
  const npm = startNpmScript("start", { ...env, LISTEN_ADDRESS: `127.0.0.1:${port}`, SEED: "none" })
  leftovers.push(npm.child.pid!)
  const ready = yield* Effect.promise(() => waitForHttp(`http://127.0.0.1:${port}/ready`, 60_000, npm))
  assert.strictEqual(ready.status, 200)
  const started = descendantsOf(npm.child.pid!)
  leftovers.push(...started)
  return { npm, started, port }
})

const stopsGracefully = (npm: ServiceProcess, started: ReadonlyArray<number>, port: number) =>
  Effect.promise(async () => {
    assert.strictEqual(await npm.exited, 0, npm.output())
    // npm waits for the service, so by now nothing is left.
    assert.deepStrictEqual(started.filter(alive), [], "every process npm started is gone")
    assert.isFalse(await accepts(port), "nothing listens on the port")
    assert.include(npm.output(), "message=Stopped")
  })

describe(`npm start and signals (${backend})`, () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it.live(`${signal} to npm's pid stops the service gracefully, exit 0, port closed`, () =>
      Effect.gen(function*() {
        const { npm, started, port } = yield* npmStart
        npm.child.kill(signal)
        yield* stopsGracefully(npm, started, port)
      }))
  }

  for (const signal of ["SIGKILL", "SIGHUP"] as const) {
    it.live(`npm killed outright (${signal}): the service notices its parent is gone and stops`, () =>
      Effect.gen(function*() {
        const { npm, started, port } = yield* npmStart
        const killed = Date.now()
        npm.child.kill(signal)
        yield* Effect.promise(() => npm.exited)
        yield* Effect.promise(() => waitUntil("the orphaned service stops", () => !started.some(alive), 15_000))
        assert.isBelow(Date.now() - killed, 5_000, "it notices within a second or so, then stops gracefully")
        assert.isFalse(yield* Effect.promise(() => accepts(port)))
        assert.include(npm.output(), "Parent process exited; stopping")
        assert.include(npm.output(), "message=Stopped")
      }))
  }
})
