// npm run seed: migrate if needed, then add the demo gateways and rooms that are missing.
import { Console, Effect } from "effect"
import { makeMigrator } from "../db/migrator.ts"
import { seedDemoData } from "../db/seed.ts"
import { runTool } from "./tool.ts"

runTool(Effect.gen(function*() {
  const migrator = yield* makeMigrator()
  yield* migrator.up
  const added = yield* seedDemoData
  yield* Console.log(`Seeded ${added.gateways} gateways and ${added.rooms} rooms`)
}))
