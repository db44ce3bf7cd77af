// The embedded database as the service creates it: in a data directory of
// its own, created by a process of its own, with small shared buffers (its
// memory never shrinks once grown).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { embeddedLayer } from "../../src/db/database.ts"
import { backend } from "../support/database.ts"

describe("the embedded database", () => {
  it.live.skipIf(backend !== "embedded")("a new data directory is created with 16 MB of shared buffers, and opened", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "room-orchestrator-embedded-"))),
        (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
      )
      const data = join(dir, "data")
      const shown = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{ shared_buffers: string }>`SHOW shared_buffers`
      }).pipe(Effect.provide(embeddedLayer(data)))
      assert.deepStrictEqual(shown, [{ shared_buffers: "16MB" }])
      assert.isTrue(existsSync(join(data, "PG_VERSION")))
    }).pipe(Effect.scoped), 120_000)
})
