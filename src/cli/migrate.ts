// npm run migrate [up | down [N] | status]: the schema migrations by hand.
import { Console, Effect } from "effect"
import { makeMigrator, migrationName } from "../db/migrator.ts"
import { runTool } from "./tool.ts"

const [command = "up", count = "1"] = process.argv.slice(2)
const usage = "usage: npm run migrate [up | down [N] | status]"

const program = Effect.gen(function*() {
  const migrator = yield* makeMigrator()
  switch (command) {
    case "up": {
      const applied = yield* migrator.up
      return yield* Console.log(applied.length === 0 ? "Nothing to apply" : `Applied ${applied.map(migrationName).join(", ")}`)
    }
    case "down": {
      const steps = Number(count)
      if (!Number.isSafeInteger(steps) || steps < 1) return yield* Effect.fail(new Error(`${usage}: N must be a positive integer`))
      const reverted = yield* migrator.down(steps)
      return yield* Console.log(reverted.length === 0 ? "Nothing to revert" : `Reverted ${reverted.map(migrationName).join(", ")}`)
    }
    case "status": {
      for (const m of yield* migrator.status) {
        yield* Console.log(`${migrationName(m)}  ${m.appliedAt ? `applied ${m.appliedAt.toISOString()}` : "pending"}`)
      }
      return
    }
    default:
      return yield* Effect.fail(new Error(usage))
  }
})

runTool(program)
