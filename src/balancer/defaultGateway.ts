// The default gateway of a room created over the real-time API: legacy mode
// serves a room from its default, so a new room gets the usable gateway that
// is already the default of the fewest rooms (ties: AVAILABLE_JANUS_SERVERS order).

/**
 * `available` in the operator's order, `usable` those enabled and not
 * cordoned, `defaults` the default gateway of every room; null when no
 * gateway is usable.
 */
export const leastUsedDefault = (
  available: ReadonlyArray<string>,
  usable: ReadonlySet<string>,
  defaults: Iterable<string | null>
): string | null => {
  const counts = new Map<string, number>()
  for (const name of defaults) if (name !== null) counts.set(name, (counts.get(name) ?? 0) + 1)
  let best: string | null = null
  for (const name of available) {
    if (!usable.has(name)) continue
    if (best === null || (counts.get(name) ?? 0) < (counts.get(best) ?? 0)) best = name
  }
  return best
}
