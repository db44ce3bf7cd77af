// Start-up and shutdown as an operator sees them: exit codes, log lines, ports.
import { PGlite } from "@electric-sql/pglite"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freshPostgresUrl, realPostgresUrl } from "./support/database.ts"
import { silentServer } from "./support/proxy.ts"
import { freePort, type ServiceProcess, startService, waitForHttp } from "./support/process.ts"

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

  it("an unreachable database fails start-up clearly and quickly", async () => {
    const port = await freePort()
    const begun = Date.now()
    const s = start({ DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${port}/test` })
    assert.strictEqual(await s.exited, 1)
    assert.isBelow(Date.now() - begun, 15_000)
    assert.include(s.output(), `Cannot reach the database at 127.0.0.1:${port}/test`)
    assert.notInclude(s.output(), "secret")
  })

  it.effect("a database that accepts but never answers fails start-up within seconds", () =>
    Effect.gen(function*() {
      const silent = yield* silentServer
      const begun = Date.now()
      const s = start({ DATABASE_URL: `postgres://postgres@127.0.0.1:${silent.port}/test` })
      assert.strictEqual(yield* Effect.promise(() => s.exited), 1)
      assert.isBelow(Date.now() - begun, 20_000)
      assert.include(s.output(), `Cannot reach the database at 127.0.0.1:${silent.port}/test`)
    }))

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
