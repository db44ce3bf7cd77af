// CPU time, the figure that survives a shared machine: user + system time
// of a process from /proc/<pid>/stat, and of the Postgres backends serving
// one database (pg_stat_activity), read before and after a scenario.
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100
  } catch {
    return 100
  }
})()

/** CPU seconds a process has used (0 once it is gone). */
export const cpuSeconds = (pid: number): number => {
  try {
    // the command name may hold spaces: fields are counted after its closing parenthesis
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
  } catch {
    return 0
  }
}

/** The server processes of a Postgres database's connections, by pid. */
export const backendsOf = (serverUrl: string, database: string): ReadonlyArray<number> => {
  const url = new URL(serverUrl)
  const out = execFileSync("psql", [
    "-h", url.hostname, "-p", url.port || "5432", "-U", url.username || "postgres", "-d", "postgres", "-Atc",
    `SELECT pid FROM pg_stat_activity WHERE datname = '${database.replace(/'/g, "''")}'`
  ]).toString()
  return out.split("\n").filter((l) => l.trim() !== "").map(Number)
}

/** Reads CPU seconds of the service, its baseline and its database's backends; `since` gives what each used from then. */
export interface CpuMeter {
  readonly read: () => CpuReading
}

export interface CpuReading {
  readonly process: number
  /** CPU seconds of each backend (a backend that came or went counts from 0). */
  readonly backends: ReadonlyMap<number, number>
}

export const cpuMeter = (pid: number, database: { readonly serverUrl: string; readonly name: string } | undefined): CpuMeter => ({
  read: () => ({
    process: cpuSeconds(pid),
    backends: new Map(database === undefined ? [] : backendsOf(database.serverUrl, database.name).map((p) => [p, cpuSeconds(p)]))
  })
})

/** CPU microseconds per request of the process and of the backends between two readings. */
export const perRequest = (before: CpuReading, after: CpuReading, requests: number) => {
  let backends = 0
  for (const [pid, seconds] of after.backends) backends += seconds - (before.backends.get(pid) ?? 0)
  const us = (seconds: number) => (requests === 0 ? 0 : Math.round((seconds * 1e6) / requests))
  return { process: us(after.process - before.process), postgres: us(backends) }
}
