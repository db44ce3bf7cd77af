// The process-level tests: each starts the service (or Postgres, or the
// built image's files) as real processes and waits on them — start-up and
// signals, kill -9 and rolling restarts of a deployment, database outages,
// the build. Slow on two cores, they run as their own suite:
// `npm run test:processes` (CI runs both suites).
export const processTests = [
  "test/startup.test.ts",
  "test/signals.test.ts",
  "test/dotenv.test.ts",
  "test/auth/startup.test.ts",
  "test/cli/modelTest.test.ts",
  "test/cluster/**/*.test.ts",
  "test/deploy/**/*.test.ts",
  "test/faults/databaseOutage.test.ts",
  "test/http/outage.test.ts",
  "test/realtime/lifecycle.test.ts",
  "test/rooms/restart.test.ts",
  "test/db/migrator.test.ts",
  "test/support/postgresServer.test.ts"
]
