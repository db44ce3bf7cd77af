// Start-up and shutdown as an operator sees them: exit codes, log lines, ports.
import { PGlite } from "@electric-sql/pglite"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freshPostgresUrl, realPostgresUrl } from "./support/database.ts"
import { silentServer } from "./support/proxy.ts"
import { postgresBinDir, privatePostgres } from "./support/postgresServer.ts"
import { freePort, type ServiceProcess, startService, waitForHttp } from "./support/process.ts"

/** The README's promise: a signalled process exits within 20 s, whatever is still open. */
const stopDeadlineMillis = 20_000
import { createServer } from "node:net"
import { once } from "node:events"

const running: Array<ServiceProcess> = []
const dirs: Array<string> = []
afterEach(() => {
  for (const s of running.splice(0)) s.child.kill("SIGKILL")
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const start = (env: Record<string, string>) => {
  const s = startService(env)
  running.push(s)
  return s
}

/** Waits until `check` holds, polling. */
const until = async (check: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const emptyDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-start-"))
  dirs.push(dir)
  return join(dir, "data")
}

describe("start-up", () => {
  it("a bad setting stops start-up with one line naming it", async () => {
    const s = start({ AVG_ROOM_OCCUPANCY: "0" })
    assert.strictEqual(await s.exited, 2)
    assert.strictEqual(s.stderr().trim(), "Invalid AVG_ROOM_OCCUPANCY=\"0\": must be at least 1; expected an integer ≥ 1 (users per room)")
  })

  it.effect.skipIf(postgresBinDir === undefined)("a database that is not there yet is waited for: /health 200 and /ready 503 naming it meanwhile, serving once it comes", () =>
    Effect.gen(function*() {
      const pg = yield* privatePostgres
      yield* pg.stop
      const port = yield* Effect.promise(freePort)
      const s = start({ DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${pg.port}/postgres`, LISTEN_ADDRESS: `127.0.0.1:${port}` })
      const health = yield* Effect.promise(() => waitForHttp(`http://127.0.0.1:${port}/health`, 60_000, s, { starting: true }))
      assert.strictEqual(health.status, 200)
      const ready = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/ready`))
      assert.strictEqual(ready.status, 503)
      assert.strictEqual(ready.headers.get("retry-after"), "2")
      assert.match(((yield* Effect.promise(() => ready.json())) as { error: string }).error, new RegExp(`database unavailable \\(postgres at 127\\.0\\.0\\.1:${pg.port}/postgres\\)`))
      const refused = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/v2/room_server`, { method: "POST", body: "{\"room\": 2171}" }))
      assert.strictEqual(refused.status, 503)
      // several attempts, each logged, none with the password
      yield* Effect.promise(() => until(() => (s.output().match(/Waiting for the database/g) ?? []).length >= 3, 30_000))
      assert.notInclude(s.output(), "secret")
      assert.strictEqual(s.child.exitCode, null, "still running")

      yield* pg.start
      const started = Date.now()
      yield* Effect.promise(() => until(async () => (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200, 60_000))
      // retries are at most 2 s apart; the rest is migrating a fresh database
      assert.isBelow(Date.now() - started, 30_000)
      assert.include(s.output(), "Database reachable")
    }).pipe(Effect.scoped), 120_000)

  it("the tools fail at once on an unreachable database, naming it without its password", async () => {
    const port = await freePort()
    const begun = Date.now()
    const s = startService({ DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${port}/test` }, "src/cli/migrate.ts", ["status"])
    running.push(s)
    assert.strictEqual(await s.exited, 1)
    assert.isBelow(Date.now() - begun, 30_000)
    assert.include(s.output(), `Cannot reach the database at 127.0.0.1:${port}/test`)
    assert.notInclude(s.output(), "secret")
  })

  it("a port in use stops start-up with one line naming the address", async () => {
    const taken = createServer().listen(0, "127.0.0.1")
    await once(taken, "listening")
    const port = (taken.address() as { port: number }).port
    try {
      const s = start({ DATA_DIR: emptyDir(), LISTEN_ADDRESS: `127.0.0.1:${port}` })
      assert.strictEqual(await s.exited, 1)
      assert.include(s.output(), `Cannot listen on 127.0.0.1:${port}: the address is already in use`)
      assert.notInclude(s.output(), `message=""`)
    } finally {
      taken.close()
    }
  })

  it("a fresh embedded start serves /health, seeds the demo data and stops cleanly on SIGTERM", async () => {
    const port = await freePort()
    const dataDir = emptyDir()
    const s = start({ DATA_DIR: dataDir, LISTEN_ADDRESS: `127.0.0.1:${port}` })
    const health = await waitForHttp(`http://127.0.0.1:${port}/health`, 30_000, s)
    assert.strictEqual(health.status, 200)
    assert.deepStrictEqual(await health.json(), { status: "ok" })
    const ready = await fetch(`http://127.0.0.1:${port}/ready`)
    assert.strictEqual(ready.status, 200)

    s.child.kill("SIGTERM")
    assert.strictEqual(await s.exited, 0)
    for (const line of ["Starting room-orchestrator", "Database connected", "Migrations up to date", "Demo data seeded", "Listening on", "Stopped"]) {
      assert.include(s.output(), line)
    }

    const db = await PGlite.create(dataDir)
    const rooms = await db.query<{ room: number; name: string; gateway: string }>(
      "SELECT r.room::int AS room, r.name, g.name AS gateway FROM rooms r JOIN gateways g ON g.id = r.default_gateway_id ORDER BY r.room"
    )
    const gateways = await db.query<{ name: string }>("SELECT name FROM gateways ORDER BY id")
    await db.close()
    assert.strictEqual(rooms.rows.length, 12)
    assert.deepStrictEqual(rooms.rows[0], { room: 2171, name: "Room 1", gateway: "gxy1" })
    assert.deepStrictEqual(gateways.rows.map((g) => g.name), Array.from({ length: 12 }, (_, i) => `gxy${i + 1}`))
  })

  it("SIGTERM at 20 moments of start-up, from the first to after it serves: each start stops within the stop deadline", async () => {
    const dataDir = emptyDir()
    const port = await freePort()
    const env = { DATA_DIR: dataDir, LISTEN_ADDRESS: `127.0.0.1:${port}` }
    // the first start creates the database; the later ones open it, as a restart does
    const first = start(env)
    await waitForHttp(`http://127.0.0.1:${port}/ready`, 60_000, first)
    first.child.kill("SIGTERM")
    assert.strictEqual(await first.exited, 0)
    const begun = Date.now()
    const again = start(env)
    await until(async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.status === 200, 60_000)
    const readyAfter = Date.now() - begun
    again.child.kill("SIGTERM")
    assert.strictEqual(await again.exited, 0)

    const outcomes: Array<string> = []
    for (let i = 0; i < 20; i++) {
      // spread over the whole start-up, and a little past it
      const at = Math.round((i / 19) * readyAfter * 1.2)
      const s = start(env)
      await new Promise((r) => setTimeout(r, at))
      const signalled = Date.now()
      s.child.kill("SIGTERM")
      const code = await Promise.race([s.exited, new Promise((r) => setTimeout(() => r("still running"), stopDeadlineMillis + 5_000))])
      outcomes.push(`${at} ms: ${String(code)} after ${Date.now() - signalled} ms`)
      // exit 0 (a graceful stop), or killed by the signal before any code ran (Node's default)
      assert.include([0, "SIGTERM"], code, outcomes.join("\n") + "\n" + s.output().slice(-2000))
      // the port is free again
      await until(async () => (await fetch(`http://127.0.0.1:${port}/health`).then(() => false, () => true)), 10_000)
    }
    console.log(`ready after ${readyAfter} ms; SIGTERM at:\n${outcomes.join("\n")}`)
  }, 600_000)

  it("SEED=none starts with an empty database", async () => {
    const port = await freePort()
    const dataDir = emptyDir()
    const s = start({ DATA_DIR: dataDir, LISTEN_ADDRESS: `127.0.0.1:${port}`, SEED: "none" })
    assert.strictEqual((await waitForHttp(`http://127.0.0.1:${port}/ready`, 30_000, s)).status, 200)
    s.child.kill("SIGTERM")
    assert.strictEqual(await s.exited, 0)
    assert.notInclude(s.output(), "Demo data seeded")
    const db = await PGlite.create(dataDir)
    const rooms = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM rooms")
    await db.close()
    assert.strictEqual(rooms.rows[0]!.n, 0)
  })

  it.effect.skipIf(realPostgresUrl === undefined)("npm run seed, then start, on a fresh real Postgres database", () =>
    Effect.gen(function*() {
      const url = yield* freshPostgresUrl(realPostgresUrl!)
      const seed = startService({ DATABASE_URL: url }, "src/cli/seed.ts")
      assert.strictEqual(yield* Effect.promise(() => seed.exited), 0)
      assert.include(seed.output(), "Seeded 12 gateways and 12 rooms")
      const again = startService({ DATABASE_URL: url }, "src/cli/seed.ts")
      assert.strictEqual(yield* Effect.promise(() => again.exited), 0)
      assert.include(again.output(), "Seeded 0 gateways and 0 rooms")

      const port = yield* Effect.promise(freePort)
      const s = start({ DATABASE_URL: url, LISTEN_ADDRESS: `127.0.0.1:${port}` })
      const ready = yield* Effect.promise(() => waitForHttp(`http://127.0.0.1:${port}/ready`, 30_000, s))
      assert.deepStrictEqual(yield* Effect.promise(() => ready.json()), { status: "ready", database: "postgres", mqtt: "off", rooms: { runner: null, shards: 300, of: 300 } })
      s.child.kill("SIGTERM")
      assert.strictEqual(yield* Effect.promise(() => s.exited), 0)
      assert.notInclude(s.output(), "Demo data seeded", "a real database is seeded only on request")
    }))
})
