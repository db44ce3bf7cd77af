// A room's expected size (machines/expectedSize.ts), over random histories
// of peaks: it never exceeds the bound, it follows a room that grows, a
// room of steady size relies on it, a room whose size jumps about relies on
// less; and the room machine learns it when an assignment ends.
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { learnExpectedSize, placementReserve, reliableSize, reservedSize, settleTime, type SizeHistory } from "../../machines/expectedSize.ts"
import { configuredMachine, newSnapshot, type RoomSnapshot, step } from "../../machines/step.ts"

const none: SizeHistory = { expected: 0, spread: 0 }
const after = (peaks: ReadonlyArray<number>, bound: number) => peaks.reduce((h, p) => learnExpectedSize(h, p, bound), none)

describe("a room's expected size", () => {
  it("never exceeds the bound, and what it relies on never exceeds what it expects", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 500 }), fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 30 }), (bound, peaks) => {
      let h = none
      for (const peak of peaks) {
        h = learnExpectedSize(h, peak, bound)
        assert.isAtMost(h.expected, bound)
        assert.isAtLeast(h.expected, 0)
        assert.isAtMost(reliableSize(h), h.expected)
        assert.isAtMost(h.spread, h.expected + 1)
        assert.isAtLeast(reliableSize(h), 0)
      }
    }))
  })

  it("follows a room that grows: after a peak, the room expects at least that many (up to the bound)", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 30 }), (peaks) => {
      let h = none
      for (const peak of peaks) {
        h = learnExpectedSize(h, peak, 400)
        assert.isAtLeast(h.expected, Math.min(peak, 400))
      }
    }))
    // a room growing every lesson is expected at its latest size
    assert.strictEqual(after([10, 20, 30, 45], 400).expected, 45)
  })

  it("one lesson of history shows nothing; a room of the same size every lesson relies on all of it", () => {
    assert.deepStrictEqual(after([30], 400), { expected: 30, spread: 31 })
    assert.strictEqual(reliableSize(after([30], 400)), 0)
    assert.strictEqual(reliableSize(after([30, 30], 400)), 30)
    // about the same size (±2): relies on most of it (29 less its largest miss lately, 2)
    assert.strictEqual(reliableSize(after([30, 28, 31, 29], 400)), 27)
  })

  it("a room whose size jumps about relies on less than it expects, and a room that shrank comes down lesson by lesson", () => {
    // expected 60 after 5, 55, 8, 60; its misses (50, 47, 22) decayed: 26 of it is not relied on
    const jumpy = after([5, 55, 8, 60], 400)
    assert.deepStrictEqual([jumpy.expected, reliableSize(jumpy)], [60, 34])
    // 40 once, then 10 every lesson: 28, 19, 13, 10
    assert.deepStrictEqual([1, 2, 3, 4].map((n) => after([40, ...Array(n).fill(10)], 400).expected), [28, 19, 13, 10])
  })

  it("with the bound at 0 (expected sizes off) a room learns nothing", () => {
    assert.deepStrictEqual(after([30, 30, 12], 0), none)
  })

  it("a reservation nobody used teaches nothing", () => {
    const steady = after([30, 30], 400)
    assert.deepStrictEqual(learnExpectedSize(steady, 0, 400), steady)
    assert.deepStrictEqual(after([0, 0], 400), none)
  })

  it("a placement reserves what the room surely needs while it is young, then nothing", () => {
    const steady = { ...after([30, 30], 400), peak: 0 }
    assert.strictEqual(placementReserve(steady), 30)
    assert.strictEqual(placementReserve({ ...steady, peak: 30 }), 0, "already at its size: its users count")
    // young for 5 minutes after its placement
    const placedAt = 1_000_000
    assert.strictEqual(settleTime, 300_000)
    assert.strictEqual(reservedSize({ ...steady, placedAt }, placedAt + 299_999), 30)
    assert.strictEqual(reservedSize({ ...steady, placedAt }, placedAt + 300_000), 0, "settled")
    assert.strictEqual(reservedSize({ ...steady, placedAt: 0 }, 1_000), 0, "not placed by the balancer")
  })
})

describe("the room machine learns its expected size", () => {
  const machine = configuredMachine({ drainGrace: 1_000, assignmentTtl: 60_000, maxServerCapacity: 25 })
  const lesson = (from: RoomSnapshot, users: number, at: number) => {
    let s = step(machine, from, { type: "SERVER.REQUESTED" }, at).snapshot
    s = step(machine, s, { type: "BALANCER.DONE", gateway: "gxy1", region: null }, at).snapshot
    assert.strictEqual(s.context.placedAt, at)
    for (let i = 0; i < users; i++) s = step(machine, s, { type: "SESSION.JOINED", session: `s${i}`, gateway: "gxy1" }, at + 10 + i).snapshot
    assert.strictEqual(s.context.peak, users)
    for (let i = 0; i < users; i++) s = step(machine, s, { type: "SESSION.LEFT", session: `s${i}` }, at + 100 + i).snapshot
    assert.strictEqual(s.state, "draining")
    const timer = Object.values(s.timers)[0]!
    s = step(machine, s, timer.event, timer.at).snapshot
    assert.strictEqual(s.state, "idle")
    return s
  }

  it("from each assignment's peak when it ends, bounded by MAX_SERVER_CAPACITY; a new room expects nothing", () => {
    const fresh = newSnapshot(machine, "2171")
    assert.deepStrictEqual([fresh.context.expected, fresh.context.spread, fresh.context.peak], [0, 0, 0])
    const once = lesson(fresh, 12, 10_000)
    assert.deepStrictEqual([once.context.expected, once.context.spread, once.context.peak, once.context.placedAt], [12, 13, 0, 0])
    const twice = lesson(once, 12, 100_000)
    assert.deepStrictEqual([twice.context.expected, twice.context.spread], [12, 0])
    // 30 users in a room where a gateway holds 25: expected 25
    assert.strictEqual(lesson(twice, 30, 200_000).context.expected, 25)
  })

  // Two lessons of 12: the room relies on all 12 of it.
  const twoLessons = () => lesson(lesson(newSnapshot(machine, "2171"), 12, 10_000), 12, 100_000)
  const placedAt = 1_000_000
  const placed = (from: RoomSnapshot) =>
    step(machine, step(machine, from, { type: "SERVER.REQUESTED" }, placedAt).snapshot, { type: "BALANCER.DONE", gateway: "gxy1", region: null }, placedAt)
  const settleTimer = (s: RoomSnapshot) => Object.values(s.timers).find((t) => t.event.type.startsWith("xstate.after.settleTime"))

  it("a young room's reservation ends exactly 5 minutes after its placement: its real count is written then", () => {
    let s = placed(twoLessons()).snapshot
    assert.strictEqual(settleTimer(s)?.at, placedAt + 300_000)
    for (const id of ["a", "b", "c"]) s = step(machine, s, { type: "SESSION.JOINED", session: id, gateway: "gxy1" }, placedAt + 1_000).snapshot
    assert.strictEqual(settleTimer(s)?.at, placedAt + 300_000, "joins below its size keep the deadline")
    const settled = step(machine, s, settleTimer(s)!.event, placedAt + 300_000)
    assert.deepStrictEqual(
      settled.effects.filter((e) => e._tag === "WriteAssignment"),
      [{ _tag: "WriteAssignment", gateway: "gxy1", region: null, users: 3 }]
    )
    assert.strictEqual(settled.snapshot.state, "assigned")
    assert.strictEqual(settleTimer(settled.snapshot), undefined)
  })

  it("an unused young reservation renewed by requests keeps its deadline", () => {
    let s = placed(twoLessons()).snapshot
    // a request after a quarter of the TTL renews it, re-entering `assigned`
    s = step(machine, s, { type: "SERVER.REQUESTED" }, placedAt + 20_000).snapshot
    assert.strictEqual(s.context.renewedAt, placedAt + 20_000)
    assert.strictEqual(settleTimer(s)?.at, placedAt + 300_000)
  })

  it("once its youth has ended, a renewal of the reservation writes nothing and schedules no settle timer", () => {
    let s = placed(twoLessons()).snapshot
    // asked for every 30 s while nobody comes: past its youth, still short of its size
    for (let t = 30_000; t <= 270_000; t += 30_000) s = step(machine, s, { type: "SERVER.REQUESTED" }, placedAt + t).snapshot
    s = step(machine, s, settleTimer(s)!.event, placedAt + 300_000).snapshot
    const renewed = step(machine, s, { type: "SERVER.REQUESTED" }, placedAt + 300_000 + 30_000)
    assert.strictEqual(renewed.snapshot.context.renewedAt, placedAt + 330_000, "renewed")
    assert.deepStrictEqual(renewed.effects.filter((e) => e._tag === "WriteAssignment"), [])
    assert.strictEqual(settleTimer(renewed.snapshot), undefined)
  })

  it("no settle timer for a room without a reservation, or one that reached its size; a late one writes nothing", () => {
    // no history: nothing reserved beyond AVG_ROOM_OCCUPANCY
    assert.strictEqual(settleTimer(placed(newSnapshot(machine, "2171")).snapshot), undefined)
    // not placed by the balancer: its first user decided the gateway
    const joined = step(machine, twoLessons(), { type: "SESSION.JOINED", session: "a", gateway: "gxy2" }, placedAt).snapshot
    assert.strictEqual(joined.state, "assigned")
    assert.strictEqual(settleTimer(joined), undefined)
    // reached its 12 within its youth: the timer fires and changes nothing
    let s = placed(twoLessons()).snapshot
    for (let i = 0; i < 12; i++) s = step(machine, s, { type: "SESSION.JOINED", session: `s${i}`, gateway: "gxy1" }, placedAt + 1_000).snapshot
    const late = step(machine, s, settleTimer(s)!.event, placedAt + 300_000)
    assert.deepStrictEqual(late.effects.filter((e) => e._tag === "WriteAssignment"), [])
  })

  it("a recount that finds more users than the room counted raises its peak; users leaving never lower it", () => {
    let s = step(machine, newSnapshot(machine, "2171"), { type: "SERVER.REQUESTED" }, 1_000).snapshot
    s = step(machine, s, { type: "BALANCER.DONE", gateway: "gxy1", region: null }, 1_000).snapshot
    for (const id of ["a", "b"]) s = step(machine, s, { type: "SESSION.JOINED", session: id, gateway: "gxy1" }, 1_100).snapshot
    assert.strictEqual(s.context.peak, 2)
    // the sessions table holds five (joins the room never heard of)
    const five = ["a", "b", "c", "d", "e"].map((session) => ({ session, gateway: "gxy1" }))
    s = step(machine, s, { type: "SESSIONS.SYNCED", sessions: five }, 1_200).snapshot
    assert.deepStrictEqual([s.context.sessions.length, s.context.peak], [5, 5])
    s = step(machine, s, { type: "SESSIONS.SYNCED", sessions: five.slice(0, 1) }, 1_300).snapshot
    assert.deepStrictEqual([s.context.sessions.length, s.context.peak], [1, 5])
  })
})
