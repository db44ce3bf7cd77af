// `npm run test:processes`: the process-level tests (test/processes.ts).
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import { processTests } from "./processes.ts"

export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: processTests,
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks"
  }
})
