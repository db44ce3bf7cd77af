// The pure tests: the room machine, its interpreter and the balancer, with
// no database, broker or browser (so no global setup). Mutation testing
// (stryker.config.mjs) runs these; `vitest run --config test/vitest.pure.config.ts`
// runs them alone in seconds.
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["test/machines/**/*.test.ts", "test/balancer/**/*.test.ts"]
  }
})
