// A private Postgres server for one test, for stopping and starting under the
// service (a database outage) without touching the machine's shared one:
// initdb into a temporary directory, trust auth, a free loopback port.
// Stopped and deleted when the test's scope closes.
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir, userInfo } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { freePort } from "./process.ts"

const run = promisify(execFile)

/** The newest installed Postgres's programs, if any (Debian's layout). */
export const postgresBinDir: string | undefined = (() => {
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const version = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0]
  return version !== undefined && existsSync(join(root, version, "bin", "pg_ctl")) ? join(root, version, "bin") : undefined
})()

export interface PrivatePostgres {
  readonly port: number
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string
  /** Fast shutdown: sessions are cut, new connections refused. */
  readonly stop: Effect.Effect<void>
  /** Starts it again on the same port and data. */
  readonly start: Effect.Effect<void>
  /** Its directory: data, socket and the server's own log (`server.log`). */
  readonly dir: string
}

// Postgres refuses to run as root: as root, its programs run as the
// `postgres` user, in a directory that user owns.
const asRoot = userInfo().uid === 0

const owner = Effect.promise(async () => {
  if (!asRoot) return undefined
  const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])])
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
})

const pgProgram = (program: string, args: ReadonlyArray<string>) =>
  Effect.tryPromise({
    try: () => asRoot
      ? run("runuser", ["-u", "postgres", "--", join(postgresBinDir!, program), ...args])
      : run(join(postgresBinDir!, program), [...args]),
    catch: (e) => new Error(`${program} ${args.join(" ")} failed: ${(e as { stderr?: string }).stderr ?? String(e)}`)
  }).pipe(Effect.orDie, Effect.asVoid)

/**
 * A running private Postgres, stopped and removed with the current scope;
 * `settings` are server settings on top of the ones for tests (e.g.
 * `track_commit_timestamp: "on"`).
 */
export const privatePostgresWith = (
  settings: Readonly<Record<string, string>>
): Effect.Effect<PrivatePostgres, never, import("effect").Scope.Scope> => Effect.gen(function*() {
  if (postgresBinDir === undefined) return yield* Effect.die(new Error("no Postgres installed under /usr/lib/postgresql"))
  const ids = yield* owner
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-pg-"))
      if (ids !== undefined) chownSync(dir, ids.uid, ids.gid)
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  const data = join(dir, "data")
  const log = join(dir, "server.log")
  const port = yield* Effect.promise(freePort)
  yield* pgProgram("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])

  const extra = Object.entries(settings).map(([name, value]) => ` -c ${name}=${value}`).join("")
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off${extra}`
  const start = pgProgram("pg_ctl", ["-D", data, "-l", log, "-o", options, "-w", "-t", "30", "start"])
  const stop = pgProgram("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"])
  yield* Effect.acquireRelease(start, () =>
    pgProgram("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).pipe(Effect.catchDefect(() => Effect.void)))
  return { port, url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, start, dir }
})

/** A running private Postgres, stopped and removed with the current scope. */
export const privatePostgres: Effect.Effect<PrivatePostgres, never, import("effect").Scope.Scope> = privatePostgresWith({})
