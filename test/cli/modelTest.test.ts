// `npm run model-test` against a running service, as an operator runs it
// against staging: every path it can drive from outside passes.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { inProcessBroker } from "../support/broker.ts"
import { backend } from "../support/database.ts"
import { startService } from "../support/process.ts"
import { serviceOnFreshDatabase } from "../support/service.ts"

describe(`npm run model-test (${backend})`, () => {
  it.live("runs the machine's paths black-box over HTTP and MQTT and passes", () =>
    Effect.gen(function*() {
      // its own broker: the gateways it takes down are the demo gateways, which other tests use too
      const broker = yield* inProcessBroker
      const mqttUrl = `mqtt://127.0.0.1:${broker.port}`
      const { base } = yield* serviceOnFreshDatabase({
        SCALE: "true", DRAIN_GRACE: "1s", ASSIGNMENT_TTL: "2s", FAILOVER_WAIT_TIME: "300ms", MQTT_URL: mqttUrl
      })
      const cli = startService({}, "src/cli/modelTest.ts", [
        "--url", base, "--drain-grace", "1s", "--assignment-ttl", "2s", "--mqtt", mqttUrl, "--failover-wait", "300ms", "--disruptive"
      ])
      const code = yield* Effect.promise(() => cli.exited)
      const output = cli.output()
      console.log(output.split("\n").filter((l) => !l.startsWith("✓")).join("\n"))
      assert.strictEqual(code, 0, output)
      const summary = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(output)!
      assert.strictEqual(summary[2], "0")
      assert.isAtLeast(Number(summary[1]), 30, "most paths run from outside")
    }).pipe(Effect.scoped), 600_000)
})
