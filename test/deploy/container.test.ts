// What can be checked of the image and the compose file without a container
// runtime: the Dockerfile's runtime stage (non-root, production dependencies
// only, no authentication default), and that the environment compose.yaml
// gives the service is one it starts with.
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { checkExposure, decodeSettings } from "../../src/config.ts"
import { dockerfileStages, imageEnv, instructions, runtimeStage } from "../support/dockerfile.ts"
import { root } from "../support/process.ts"

const read = (file: string) => readFileSync(`${root}${file}`, "utf8")

describe("Dockerfile", () => {
  const stages = dockerfileStages()
  const runtime = runtimeStage()

  it("builds in a stage of its own and runs on the official Node 24 image", () => {
    assert.isAtLeast(stages.length, 2)
    assert.include(instructions(stages[0]!, "RUN"), "npm run build")
    assert.match(runtime.from, /^node:24(-|$)/)
  })

  it("the runtime stage installs production dependencies only and takes just dist/ from the build", () => {
    const installs = instructions(runtime, "RUN").filter((r) => r.includes("npm ci"))
    assert.lengthOf(installs, 1)
    assert.include(installs[0], "--omit=dev")
    const fromBuild = instructions(runtime, "COPY").filter((c) => c.startsWith("--from="))
    assert.deepStrictEqual(fromBuild, ["--from=build /app/dist dist"])
  })

  it("runs as a non-root user, on 0.0.0.0:8081 with the embedded database in /data, and sets no authentication", () => {
    const users = instructions(runtime, "USER")
    assert.lengthOf(users, 1)
    assert.notMatch(users[0]!, /^(root|0)(:|$)/)
    assert.deepStrictEqual(imageEnv(runtime), { LISTEN_ADDRESS: "0.0.0.0:8081", DATA_DIR: "/data" })
    assert.deepStrictEqual(instructions(runtime, "VOLUME"), ["/data"])
    assert.deepStrictEqual(instructions(runtime, "EXPOSE"), ["8081"])
    const mentions = runtime.instructions.filter((i) => /AUTH|SERVICE_PASSWORD/.test(i.args))
    assert.deepStrictEqual(mentions, [])
  })

  it(".dockerignore keeps local state out of the build context", () => {
    const ignored = read(".dockerignore").split("\n").map((l) => l.trim())
    for (const entry of ["node_modules", "dist", "data", ".git"]) assert.include(ignored, entry)
  })
})

/** `KEY: value` lines of one service's `environment:` block (the file's simple form, not YAML in general). */
const serviceEnvironment = (compose: string, service: string): Record<string, string> => {
  const lines = compose.split("\n")
  const start = lines.findIndex((l, i) => l === "    environment:" && lines.slice(0, i).findLast((s) => /^ {2}\S/.test(s)) === `  ${service}:`)
  assert.isAbove(start, -1, `${service} has an environment block`)
  const env: Record<string, string> = {}
  for (const line of lines.slice(start + 1)) {
    if (line.trim().startsWith("#")) continue
    const m = /^ {6}([A-Z_]+): "?(.*?)"?$/.exec(line)
    if (m === null) break
    env[m[1]!] = m[2]!
  }
  return env
}

/** Compose's interpolation for the forms the file uses: `${X:-default}` and `${X:?message}`. */
const interpolate = (value: string, given: Record<string, string>) =>
  value.replace(/\$\{([A-Z_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind: string | undefined, rest: string) => {
    if (given[name] !== undefined) return given[name]
    if (kind === "?") throw new Error(`compose refuses to start: ${rest}`)
    return kind === "-" ? rest : ""
  })

describe("compose.yaml", () => {
  const compose = read("compose.yaml")
  const env = serviceEnvironment(compose, "room-orchestrator")

  it("starts three replicas, each a cluster runner advertising its own address on the trusted compose network, after Postgres and Mosquitto are healthy", () => {
    assert.include(compose, "    deploy:\n      replicas: 3\n")
    assert.strictEqual(env.CLUSTER_RUNNER_ADDRESS, "auto:34431")
    assert.strictEqual(env.CLUSTER_NETWORK, "trusted")
    assert.notInclude(compose, "34431:", "the runner port is never published")
    assert.strictEqual(compose.match(/condition: service_healthy/g)?.length, 3)
  })

  it("runs every service under restart on failure, the replicas under an init process", () => {
    assert.strictEqual(compose.match(/^    restart: unless-stopped$/gm)?.length, 4)
    assert.match(compose, /  room-orchestrator:\n(?:    .*\n)*?    init: true\n/)
  })

  it("gives the service settings it starts with: Postgres, MQTT, scale mode, authentication required from the environment", () => {
    assert.throws(() => interpolate(env.AUTH_JWT_SECRET!, {}), /AUTH_JWT_SECRET/)
    const settings = Result.flatMap(
      decodeSettings(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, { AUTH_JWT_SECRET: "s".repeat(32) })]))),
      checkExposure
    )
    assert.isTrue(Result.isSuccess(settings), Result.isFailure(settings) ? settings.failure.message : "")
    const s = Result.getOrThrow(settings)
    assert.strictEqual(s.databaseUrl, "postgres://postgres:postgres@postgres:5432/galaxy")
    assert.strictEqual(s.mqttUrl, "mqtt://mosquitto:1883")
    assert.isTrue(s.scale)
    assert.deepStrictEqual(s.listen, { host: "0.0.0.0", port: 8081 })
    assert.strictEqual(s.authJwtSecret, "s".repeat(32))
  })

  it("mounts configuration files that exist: Mosquitto anonymous on 1883, the proxy in front of the replicas", () => {
    const mounts = [...compose.matchAll(/- \.\/(\S+?):/g)].map((m) => m[1]!)
    assert.deepStrictEqual(mounts, ["deploy/mosquitto.conf", "deploy/nginx.conf"])
    for (const file of mounts) assert.isTrue(existsSync(`${root}${file}`), file)
    const mosquitto = read("deploy/mosquitto.conf")
    assert.match(mosquitto, /^listener 1883$/m)
    assert.match(mosquitto, /^allow_anonymous true$/m)
    const nginx = read("deploy/nginx.conf")
    assert.match(nginx, /listen 8081;/)
    assert.match(nginx, /set \$replicas room-orchestrator;\s+proxy_pass http:\/\/\$replicas:8081;/)
    assert.include(compose, `- "8081:8081"`)
  })
})
