// Settings as a test reads them: the settings a decoding accepts, or the
// refusal it answers (the variable it names and the operator's one line).
import { assert } from "@effect/vitest"
import { Result } from "effect"
import type { ConfigError, Settings } from "../../src/config.ts"

type Decode = (env: Record<string, string>) => Result.Result<Settings, ConfigError>

/** What `decode` refuses `env` with; the test fails when it accepts it. */
export const refusalOf = (decode: Decode) => (env: Record<string, string>): ConfigError => {
  const r = decode(env)
  assert.isTrue(Result.isFailure(r), `expected ${JSON.stringify(env)} to be refused`)
  return (r as Result.Failure<Settings, ConfigError>).failure
}

/** The settings `decode` makes of `env`; the test fails with the refusal's message otherwise. */
export const settingsOf = (decode: Decode) => (env: Record<string, string>): Settings => {
  const r = decode(env)
  if (Result.isFailure(r)) assert.fail(r.failure.message)
  return r.success
}

/** What `decode` refuses `name=value` with, once the test has seen it name `name` and say `reason`. */
export const refusalNaming = (decode: Decode) => (name: string, value: string, reason: string): ConfigError => {
  const error = refusalOf(decode)({ [name]: value })
  assert.strictEqual(error.variable, name)
  assert.include(error.message, reason)
  return error
}
