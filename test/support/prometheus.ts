// Prometheus text as a scraper reads it: families (name, HELP, TYPE, samples)
// from parse-prometheus-text-format, and single sample lines read exactly
// (that parser merges the label sets of a histogram, so histogram samples
// are read from their lines).
import { spawnSync } from "node:child_process"
// @ts-expect-error the package ships no type declarations
import parsePrometheusTextFormat from "parse-prometheus-text-format"

export interface Family {
  readonly name: string
  readonly help: string
  readonly type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED"
  readonly metrics: ReadonlyArray<{ readonly value?: string; readonly labels?: Readonly<Record<string, string>> }>
}

export const parseFamilies = (text: string): ReadonlyMap<string, Family> =>
  new Map((parsePrometheusTextFormat(text) as ReadonlyArray<Family>).map((f) => [f.name, f]))

/** The value of one sample (`name{a="x",b="y"}`, labels in any order), or undefined when absent. */
export const sample = (text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined => {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(",")
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null || m[1] !== name) continue
    const have = (m[2] ?? "").split(/,(?=[a-zA-Z_]+=")/).filter((s) => s !== "").sort().join(",")
    if (have === wanted) return Number(m[3])
  }
  return undefined
}

/** `promtool check metrics` on `text`: undefined when promtool is not installed, else its exit code and output. */
export const promtoolCheck = (text: string): { readonly code: number; readonly output: string } | undefined => {
  const run = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" })
  if (run.error !== undefined) return undefined
  return { code: run.status ?? 1, output: `${run.stdout}${run.stderr}` }
}

export const promtoolInstalled = spawnSync("promtool", ["--version"]).error === undefined
