// Seeded randomness for the simulation: the same seed gives the same trace,
// so two runs (and every strategy within a run) see identical users.

export type Random = () => number

/** mulberry32: tiny, fast and good enough for workload generation; not for crypto. */
export const mulberry32 = (seed: number): Random => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A uniform real in [low, high). */
export const between = (random: Random, low: number, high: number) => low + (high - low) * random()

/** A uniform integer in [low, high]. */
export const integer = (random: Random, low: number, high: number) => low + Math.floor((high - low + 1) * random())

export const chance = (random: Random, p: number) => random() < p

/** One of the keys, with probability proportional to its weight. */
export const weighted = <K extends string>(random: Random, weights: ReadonlyArray<readonly [K, number]>): K => {
  const total = weights.reduce((sum, [, w]) => sum + w, 0)
  let x = random() * total
  for (const [key, w] of weights) {
    x -= w
    if (x < 0) return key
  }
  return weights[weights.length - 1]![0]
}

/**
 * A value in [0, 1) fixed by its inputs. Used for choices made while the
 * simulation runs (retry delays): a per-strategy PRNG stream would drift as
 * strategies take different paths, and then users would behave differently.
 */
export const hashed = (...parts: ReadonlyArray<number>): number => {
  let h = 0x9e3779b9
  for (const p of parts) h = Math.imul(h ^ (p | 0), 0x85ebca6b) ^ (h >>> 13)
  return mulberry32(h)()
}
