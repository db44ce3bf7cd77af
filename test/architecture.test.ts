// The layers of docs/ARCHITECTURE.md, checked on the imports themselves:
// every relative import of machines/ and src/ points to its own part or to
// a lower layer. The arrows between the ways in (src/http, src/realtime,
// src/inspect, src/mqtt — one floor) that remain are listed here, each to be
// removed; a new one fails this test, and so does a
// listed one that is gone (the list must shrink with the code).
import { readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { assert, describe, it } from "vitest"
import { root } from "./support/process.ts"

/** The floors of docs/ARCHITECTURE.md, bottom first: a file's floor is the first pattern it matches. */
const floors: ReadonlyArray<readonly [number, RegExp]> = [
  [1, /^machines\//],
  [2, /^src\/(domain\/|duration\.ts$|reconnect\.ts$|startingUp\.ts$)/],
  [3, /^src\/(balancer\/|config\.ts$)/],
  [4, /^src\/db\//],
  [5, /^src\/(metrics\/|auth\/|serving\/|logging\.ts$|tracing\.ts$|stopSignal\.ts$)/],
  [6, /^src\/(rooms|gateways|sessions|meetings)\//],
  [7, /^src\/(mqtt|realtime|inspect|http)\//],
  [8, /^src\/(app\.ts|service\.ts|main\.ts|cli\/)/]
]

/** Arrows across the ways-in floor that are still there (from → to). */
const remaining = new Set([
  "src/http/inspect.ts → src/inspect/machineGraph.ts",
  "src/http/inspect.ts → src/inspect/views.ts",
  "src/http/ops.ts → src/mqtt/broker.ts"
])

const sources = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) return sources(path)
    return path.endsWith(".ts") ? [relative(root, path)] : []
  })

const floorOf = (file: string) => floors.find(([, pattern]) => pattern.test(file))?.[0]
/** Its part: `src/rooms`, `machines`, or a file of its own (`src/config.ts`). */
const partOf = (file: string) => (file.startsWith("machines/") ? "machines" : file.split("/").slice(0, file.split("/").length > 2 ? 2 : 3).join("/"))

describe("the layers of docs/ARCHITECTURE.md", () => {
  const files = [...sources(join(root, "machines")), ...sources(join(root, "src"))]
  const arrows = files.flatMap((from) =>
    [...readFileSync(join(root, from), "utf8").matchAll(/^import [^;]*? from "(\.{1,2}\/[^"]+)"/gm)].map((m) => ({
      from,
      to: relative(root, resolve(dirname(join(root, from)), m[1]!))
    })))

  it("every file of machines/ and src/ has a floor", () => {
    assert.deepStrictEqual(files.filter((f) => floorOf(f) === undefined), [])
    assert.isAbove(arrows.length, 300, "the imports were read")
  })

  it("every import points to its own part or below; across the ways in, only the arrows still listed", () => {
    const up: Array<string> = []
    const across: Array<string> = []
    for (const { from, to } of arrows) {
      const a = floorOf(from)!
      const b = floorOf(to)
      if (b === undefined) {
        up.push(`${from} → ${to} (outside machines/ and src/)`)
        continue
      }
      if (partOf(from) === partOf(to)) continue
      if (b > a) up.push(`${from} (floor ${a}) → ${to} (floor ${b})`)
      else if (b === a && a === 7) across.push(`${from} → ${to}`)
    }
    assert.deepStrictEqual(up, [], "no import points up")
    assert.deepStrictEqual(across.filter((a) => !remaining.has(a)), [], "no new arrow across the ways in")
    assert.deepStrictEqual([...remaining].filter((a) => !across.includes(a)), [], "a listed arrow that is gone comes off the list")
  })
})
