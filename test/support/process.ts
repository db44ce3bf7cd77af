// The service as an operator runs it: `node src/main.ts` in a child process.
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../../", import.meta.url))

export interface ServiceProcess {
  readonly child: ChildProcess
  readonly output: () => string
  readonly stderr: () => string
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>
}

/** Starts `src/main.ts` with exactly `env` (plus PATH and HOME). */
export const startService = (env: Record<string, string>, script = "src/main.ts", args: Array<string> = []): ServiceProcess => {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  return watch(child)
}

const watch = (child: ChildProcess): ServiceProcess => {
  let out = ""
  let err = ""
  child.stdout!.on("data", (d) => (out += d))
  child.stderr!.on("data", (d) => (err += d))
  const exited = once(child, "exit").then(([code, signal]) => (code ?? signal) as number | string)
  return { child, output: () => out + err, stderr: () => err, exited }
}

/** Runs `npm run <script>` as an operator does, with exactly `env` (plus PATH and HOME). */
export const startNpmScript = (script: string, env: Record<string, string>): ServiceProcess => {
  // The project's own Node first, as npm does for the scripts it runs.
  const path = `${root}node_modules/.bin:${process.env.PATH ?? ""}`
  const child = spawn("npm", ["run", "--silent", script], {
    cwd: root,
    env: { PATH: path, HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  return watch(child)
}

/**
 * Polls `url` until the service answers it (any status) or `timeoutMs`
 * passes. A process still starting answers too (/health 200, anything else
 * 503, marked `x-starting`): that counts only with `{ starting: true }`.
 */
export const waitForHttp = async (url: string, timeoutMs: number, service?: ServiceProcess, options: { readonly starting?: boolean } = {}): Promise<Response> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const response = await fetch(url)
      if (options.starting === true || response.headers.get("x-starting") === null) return response
      await response.body?.cancel()
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms\n${service?.output() ?? ""}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A loopback port nobody listens on right now. */
export const freePort = async (): Promise<number> => {
  const server = createServer()
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const address = server.address()
  server.close()
  return typeof address === "object" && address ? address.port : 0
}
