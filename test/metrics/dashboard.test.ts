// The Grafana dashboard (ops/grafana-dashboard.json) and the example alerts
// (ops/alerts.yml) query only what GET /metrics serves, so neither can drift
// from the service; where promtool is installed it checks their PromQL.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { backend } from "../support/database.ts"
import { parseFamilies, promtoolInstalled } from "../support/prometheus.ts"
import { root } from "../support/process.ts"
import { serviceOnFreshDatabase } from "../support/service.ts"

const dashboard = JSON.parse(readFileSync(join(root, "ops/grafana-dashboard.json"), "utf8"))
const panels: ReadonlyArray<{ title: string; targets: ReadonlyArray<{ expr: string }> }> = dashboard.panels
const dashboardExprs = panels.flatMap((p) => p.targets.map((t) => t.expr))

/** The `expr` of every rule, single-line or block (`expr: |`). */
const alertExprs = (() => {
  const lines = readFileSync(join(root, "ops/alerts.yml"), "utf8").split("\n")
  const out: Array<string> = []
  for (let i = 0; i < lines.length; i++) {
    const block = /^(\s*)expr:\s*\|\s*$/.exec(lines[i]!)
    if (block) {
      const body: Array<string> = []
      while (i + 1 < lines.length && (lines[i + 1]!.trim() === "" || lines[i + 1]!.search(/\S/) > block[1]!.length)) body.push(lines[++i]!.trim())
      out.push(body.join(" ").trim())
    } else {
      const one = /^\s*expr:\s*(.+)$/.exec(lines[i]!)
      if (one) out.push(one[1]!.trim())
    }
  }
  return out
})()

const promqlWords = new Set([
  "sum", "max", "min", "avg", "count", "by", "without", "rate", "increase", "irate", "histogram_quantile", "and", "or", "unless", "on", "ignoring",
  "group_left", "group_right", "bool", "offset", "topk", "bottomk", "abs", "clamp_min", "clamp_max", "delta", "deriv", "le", "inf", "nan"
])

/** Metric names an expression selects, and the label names its matchers use per metric. */
const selectors = (expr: string) => {
  const found: Array<{ name: string; labels: ReadonlyArray<string> }> = []
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "\"\"")
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, " ")
  for (const m of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g)) {
    const name = m[1]!
    if (promqlWords.has(name.toLowerCase()) || /^\d/.test(name)) continue
    // a function call, not a metric
    if (stripped.slice(m.index! + m[0].length).trimStart().startsWith("(") && m[2] === undefined) continue
    const labels = [...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!)
    found.push({ name, labels })
  }
  return found
}

// Series Prometheus makes itself for every target.
const scrapeSeries = new Set(["up"])

describe(`the dashboard and the alerts query what /metrics serves (${backend})`, () => {
  it.live("every metric and label they use exists in a scrape", () =>
    Effect.gen(function*() {
      assert.isAtLeast(panels.length, 10)
      const { base, api } = yield* serviceOnFreshDatabase({ SCALE: "true" })
      yield* api.post("/v2/room_server", { room: 2171 })
      const text = yield* Effect.promise(() => fetch(`${base}/metrics`).then((r) => r.text()))
      const families = parseFamilies(text)
      const labelsOf = (family: string) => {
        const names = new Set<string>(["instance", "job"])
        for (const line of text.split("\n")) {
          if (!line.startsWith(family)) continue
          for (const l of line.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) names.add(l[1]!)
        }
        return names
      }
      const familyOf = (name: string) =>
        families.has(name) ? name : [...families.values()].find((f) => f.type === "HISTOGRAM" && /_(bucket|count|sum)$/.test(name) && name.replace(/_(bucket|count|sum)$/, "") === f.name)?.name

      const exprs = [...dashboardExprs, ...alertExprs]
      assert.isAtLeast(alertExprs.length, 8)
      let used = 0
      for (const expr of exprs) {
        const found = selectors(expr)
        assert.isAbove(found.length, 0, `no metric in ${expr}`)
        for (const { name, labels } of found) {
          if (scrapeSeries.has(name)) continue
          const family = familyOf(name)
          assert.isDefined(family, `${name} (in ${expr}) is not served by /metrics`)
          for (const label of labels) assert.isTrue(labelsOf(name).has(label), `${name} has no label ${label} (in ${expr})`)
          used++
        }
      }
      assert.isAtLeast(used, 25)
    }).pipe(Effect.scoped))

  it.skipIf(!promtoolInstalled && process.env.REQUIRE_PROMTOOL !== "1")(
    `promtool accepts the alert rules and every dashboard query${promtoolInstalled ? "" : " (skipped: promtool is not installed)"}`,
    () => {
      const alerts = spawnSync("promtool", ["check", "rules", join(root, "ops/alerts.yml")], { encoding: "utf8" })
      assert.strictEqual(alerts.status, 0, `${alerts.stdout}${alerts.stderr}`)
      // The dashboard's queries as recording rules: promtool parses each one.
      const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-dashboard-"))
      try {
        const rules = dashboardExprs.map((expr, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(expr)}`).join("\n")
        writeFileSync(join(dir, "dashboard.yml"), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`)
        const queries = spawnSync("promtool", ["check", "rules", join(dir, "dashboard.yml")], { encoding: "utf8" })
        assert.strictEqual(queries.status, 0, `${queries.stdout}${queries.stderr}`)
        assert.include(queries.stdout, `SUCCESS: ${dashboardExprs.length} rules found`)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  )
})
