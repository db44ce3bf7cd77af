// The .env file: read at start-up from the working directory, the process
// environment winning over it, decoded like every variable; a line that is
// not NAME=value stops start-up with a message naming it.
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { withDotEnv } from "../src/config.ts"
import { root } from "./support/process.ts"

const withFile = <A>(text: string, f: (path: string, dir: string) => A): A => {
  const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-env-"))
  try {
    writeFileSync(join(dir, ".env"), text)
    return f(join(dir, ".env"), dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe(".env", () => {
  it("adds the file's variables; the process environment wins; no file, no change", () => {
    const env = withFile("# settings\nSCALE=true\nexport MAX_SERVER_CAPACITY=300\nCORS_ORIGINS=\"https://a.example.org\"\nAVG_ROOM_OCCUPANCY=5\n", (path) =>
      withDotEnv({ AVG_ROOM_OCCUPANCY: "7" }, path))
    assert.isTrue(Result.isSuccess(env))
    const vars = Result.getOrThrow(env)
    assert.deepInclude(vars, { SCALE: "true", MAX_SERVER_CAPACITY: "300", CORS_ORIGINS: "https://a.example.org", AVG_ROOM_OCCUPANCY: "7" })
    assert.deepStrictEqual(Result.getOrThrow(withDotEnv({ A: "1" }, "/nonexistent/.env")), { A: "1" })
  })

  it("multi-line quoted values are read; a line that is not NAME=value or an unclosed quote is refused, naming it", () => {
    const ok = withFile("KEY=\"line one\nline two\"\nNEXT=1\n", (path) => withDotEnv({}, path))
    assert.deepInclude(Result.getOrThrow(ok), { KEY: "line one\nline two", NEXT: "1" })
    const bad = withFile("SCALE=true\nMAX SERVER CAPACITY 300\n", (path) => withDotEnv({}, path))
    assert.isTrue(Result.isFailure(bad))
    assert.match(Result.isFailure(bad) ? bad.failure.message : "", /^Invalid .*\.env: line 2 \("MAX SERVER CAPACITY 300"\) is not NAME=value$/)
    const open = withFile("KEY=\"never closed\nNEXT=1\n", (path) => withDotEnv({}, path))
    assert.match(Result.isFailure(open) ? open.failure.message : "", /a value opened with " is never closed/)
  })

  const startIn = async (dir: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, ["--import", pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href, join(root, "src/main.ts")], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let err = ""
    child.stderr.on("data", (d) => (err += d))
    const [code] = await once(child, "exit")
    return { code, stderr: err.trim() }
  }

  it("the service reads ./.env at start-up: its values are decoded like any variable, the environment overrides them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-env-"))
    try {
      writeFileSync(join(dir, ".env"), "MAX_SERVER_CAPACITY=abc\nAVG_ROOM_OCCUPANCY=0\n")
      // MAX_SERVER_CAPACITY from the environment wins; AVG_ROOM_OCCUPANCY comes from the file
      const run = await startIn(dir, { MAX_SERVER_CAPACITY: "400" })
      assert.strictEqual(run.code, 2)
      assert.strictEqual(run.stderr, "Invalid AVG_ROOM_OCCUPANCY=\"0\": must be at least 1; expected an integer ≥ 1 (users per room)")

      writeFileSync(join(dir, ".env"), "SCALE=true\nthis is not a setting\n")
      const malformed = await startIn(dir, {})
      assert.strictEqual(malformed.code, 2)
      assert.strictEqual(malformed.stderr, "Invalid .env: line 2 (\"this is not a setting\") is not NAME=value")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
