// A room's expected size: Galaxy's rooms are groups that meet lesson after
// lesson with much the same people, so a room's recent peaks predict how
// many it will hold. Each assignment records its peak (the most users it
// counted); when an assignment that had users ends the room learns:
//
//   expected ← min(bound, max(peak, ⌊expected × decay⌋))
//
// a decayed maximum: a room that grows is expected at its new size at once,
// one that shrinks is trusted less each lesson (0.7 per lesson, so 40 users
// once and 10 since are expected as 28, 19, 13, 10), and no room expects
// more than a gateway holds (MAX_SERVER_CAPACITY). A room with no history
// expects 0: AVG_ROOM_OCCUPANCY applies as before.
//
// A room relies only on what its history has shown: its expectation less
// its spread (how far its peaks have strayed from what it expected before
// them, a decayed maximum too). One lesson of history shows nothing; a room
// of the same size in its last two lessons relies on all of it, one of
// about the same size on most of it; a room whose size jumps about relies
// on less. Reserving sizes that turn out wrong spreads users worse than
// reserving the average — the balancing simulator's "sizes changed" trace
// shows it, and shows this rule still loses there (bench/README.md).
//
// While a placed room is young — placed by the balancer less than
// `settleTime` ago and not yet at that size — it reserves that size on its
// gateway; after that, its real count. (The room's `settleTime` timer
// writes that count when its youth ends, machines/room.machine.ts.)

/** How much of its expectation a room keeps after a lesson it did not reach it. */
export const expectedDecay = 0.7

/** How long a new placement may reserve its expected size while its users arrive. */
export const settleTime = 5 * 60_000

export interface SizeHistory {
  /** The room's expected size (0: no history). */
  readonly expected: number
  /**
   * How far its peaks have strayed from what it expected before them: a
   * decayed maximum of |peak − expected| (as `expected` decays). After a
   * single assignment of history it is `expected + 1`: nothing shown yet.
   */
  readonly spread: number
}

/** What a room expects after an assignment that peaked at `peak` users (never more than `bound`). */
export const learnExpectedSize = (history: SizeHistory, peak: number, bound: number): SizeHistory => {
  // a reservation nobody used says nothing about the room's size
  if (peak === 0) return history
  const expected = Math.min(bound, Math.max(peak, Math.floor(history.expected * expectedDecay)))
  if (history.expected === 0) return { expected, spread: expected === 0 ? 0 : expected + 1 }
  const missed = Math.abs(peak - history.expected)
  // the first error seen replaces "nothing shown"; later ones keep the largest, decaying
  const spread = history.spread > history.expected ? missed : Math.max(missed, Math.floor(history.spread * expectedDecay))
  return { expected, spread: Math.min(expected, spread) }
}

/** What the room surely needs by its history: its expectation less its spread (0: nothing to rely on). */
export const reliableSize = (history: SizeHistory) => Math.max(0, history.expected - history.spread)

interface Sized extends SizeHistory {
  readonly peak: number
  readonly placedAt: number
}

/** What a placement of the room reserves beyond its users: what it surely needs, unless it already has that many. */
export const placementReserve = (room: Omit<Sized, "placedAt">): number => {
  const size = reliableSize(room)
  return room.peak < size ? size : 0
}

/** What a room's expected size adds to its load now: its expectation while young, else nothing. */
export const reservedSize = (room: Sized, now: number): number =>
  room.placedAt > 0 && now - room.placedAt < settleTime ? placementReserve(room) : 0
