// The README's examples as a newcomer runs them: every `curl` of README.md,
// run with curl against the service started as the text above its block
// says (`SCALE=true npm start`, …), each answer checked against the one the
// README shows after it (`…` stands for whatever the README leaves out).
// The README's quick start is the embedded database: on a real Postgres
// (DATABASE_URL) the test is skipped.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { readFileSync } from "node:fs"
import { backend } from "./support/database.ts"
import { root } from "./support/process.ts"
import { call, serviceOnFreshDatabase } from "./support/service.ts"

interface Example {
  readonly command: string
  /** The answer the README shows, or undefined when it shows none. */
  readonly expected: string | undefined
  /** `… everyone leaves …`: what happens before this command, told in words. */
  readonly after: string | undefined
}

interface Block {
  /** The settings of the `… npm start` named in the text before the block. */
  readonly env: Record<string, string>
  readonly examples: ReadonlyArray<Example>
}

const readme = readFileSync(`${root}README.md`, "utf8")
const run = promisify(execFile)

/** `SCALE=true SERVER_REGIONS='IL:gxy1' npm start` → { SCALE: "true", SERVER_REGIONS: "IL:gxy1" } */
const envOf = (text: string): Record<string, string> => {
  const start = [...text.matchAll(/`((?:[A-Z_]+=(?:'[^']*'|\S+) )+)npm start`/g)].at(-1)
  if (start === undefined) return {}
  return Object.fromEntries([...start[1]!.matchAll(/([A-Z_]+)=('([^']*)'|\S+)/g)].map((m) => [m[1]!, m[3] ?? m[2]!]))
}

const blocks: ReadonlyArray<Block> = (() => {
  const out: Array<Block> = []
  const parts = readme.split(/```bash\n/)
  for (let i = 1; i < parts.length; i++) {
    const [code] = parts[i]!.split("```")
    const before = parts[i - 1]!.split("```").at(-1)!
    // joined continuation lines
    const lines = code!.replace(/\\\n\s*/g, "").split("\n").map((l) => l.trim()).filter((l) => l !== "")
    const examples: Array<Example> = []
    let after: string | undefined
    for (const line of lines) {
      if (line.startsWith("curl")) {
        const [command, comment] = line.split(/\s+#\s+/, 2)
        examples.push({ command: command!, expected: comment?.split(/\s{2,}/)[0], after })
        after = undefined
      } else if (line.startsWith("# …")) {
        after = line
      } else if (line.startsWith("# ") && examples.length > 0 && examples.at(-1)!.expected === undefined) {
        const last = examples.pop()!
        examples.push({ ...last, expected: line.slice(2).split(/\s{2,}/)[0] })
      }
    }
    if (examples.length > 0) out.push({ env: envOf(before), examples })
  }
  return out
})()

/** The README's answer, `…` standing for anything, in the actual answer in order. */
const matches = (actual: string, expected: string) => {
  let from = 0
  for (const part of expected.split("…").map((p) => p.trim().replace(/^,\s*|,\s*$/g, "")).filter((p) => p !== "")) {
    const at = actual.indexOf(part, from)
    if (at < 0) return false
    from = at + part.length
  }
  return true
}

describe.skipIf(backend !== "embedded")(`the README's examples (${backend})`, () => {
  it("the README has curl examples with their answers", () => {
    assert.isAtLeast(blocks.length, 4)
    assert.isAtLeast(blocks.flatMap((b) => b.examples).filter((e) => e.expected !== undefined).length, 10)
  })

  for (const [index, block] of blocks.entries()) {
    const settings = Object.keys(block.env).length === 0 ? "the defaults" : Object.entries(block.env).map(([k, v]) => `${k}=${v}`).join(" ")
    it.live(`block ${index + 1} (${settings}): every answer as the README shows it`, () =>
      Effect.gen(function*() {
        const { base } = yield* serviceOnFreshDatabase(block.env)
        const port = new URL(base).port
        for (const example of block.examples) {
          // told in words: everyone leaves and the assignment is deleted
          if (example.after !== undefined) yield* call("POST", `${base}/admin/assignments/2171/release`)
          const command = example.command.replace(/(localhost|127\.0\.0\.1):8081/g, `127.0.0.1:${port}`)
          // curl in a child process, waited for without blocking: the service answers it from this process
          const answer = yield* Effect.promise(() => run("bash", ["-c", `${command} -s --max-time 20`], { encoding: "utf8" })).pipe(Effect.map((r) => r.stdout))
          if (example.expected !== undefined) assert.isTrue(matches(answer, example.expected), `${example.command}\n  README: ${example.expected}\n  answer: ${answer}`)
        }
      }).pipe(Effect.scoped))
  }
})
