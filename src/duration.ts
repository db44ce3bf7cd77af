// Go's duration syntax (`90s`, `1m`, `1h30m`, `250ms`), as the Go service's
// operators already write it. Strict: the whole string must be one or more
// number+unit pairs; a bare number is refused (Go refuses it too, except 0).

const unitMillis: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000
}

const whole = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))*$/
const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g

/** Milliseconds of a Go duration string, or undefined when it is not one. */
export const parseGoDuration = (text: string): number | undefined => {
  if (text === "0") return 0
  if (!whole.test(text)) return undefined
  let total = 0
  for (const [, amount, unit] of text.matchAll(part)) {
    total += Number(amount) * unitMillis[unit!]!
  }
  return total
}

/** The shortest Go form of a duration in milliseconds, for logs and docs. */
export const formatGoDuration = (millis: number): string => {
  if (millis === 0) return "0s"
  if (millis < 1_000) return `${millis}ms`
  const h = Math.floor(millis / 3_600_000)
  const m = Math.floor((millis % 3_600_000) / 60_000)
  const s = (millis % 60_000) / 1_000
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`
}
