import { defineConfig } from "vitest/config"
import { processTests } from "./test/processes.ts"

// `npm test`: every test but the process-level ones (test/processes.ts),
// which `npm run test:processes` runs (test/vitest.processes.config.ts).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...processTests, "**/node_modules/**"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks"
  }
})
