// SPEC.md §3's lifecycle table as data: each row (from, event, condition,
// to, effect) written out as the specification words it, with a room that is
// in `from`, the event sent, and the outcome expected, literally: the state,
// the gateway, the sessions and every effect the interpreter hands the
// runtime. The expected values come from the specification, never from the
// machine, so a machine that drifts from the table fails here even when its
// own model-based paths still agree with it.
import { assert, describe, it } from "@effect/vitest"
import type { RoomState } from "../../machines/room.machine.ts"
import { type RoomEffect, step } from "../../machines/step.ts"
import {
  assignedEmpty, assignedWithA, assigning, cancel, down, draining, failed, graceTimer, type Input, join, leave, machine,
  persisted as row, placed, released, requested, roomAfter, schedule, second, stored, touch, ttlTimer, update, write
} from "./given.ts"

interface Row {
  readonly from: RoomState
  readonly event: string
  readonly condition: string
  readonly to: RoomState
  readonly effect: string
  /** A room in `from`. */
  readonly given: ReadonlyArray<Input>
  readonly send: Input
  /** When the event is sent (default: a second after the last given event). */
  readonly at?: number
  readonly gateway: string | null
  readonly region: string | null
  readonly sessions: ReadonlyArray<string>
  readonly effects: ReadonlyArray<RoomEffect>
}

const table: ReadonlyArray<Row> = [
  {
    from: "idle", event: "`SERVER.REQUESTED` (country?)", condition: "", to: "assigning", effect: "ask the balancer",
    given: [], send: requested, gateway: null, region: null, sessions: [],
    effects: [row(1, "idle", "SERVER.REQUESTED", "assigning", null, 0), {
      _tag: "SelectGateway",
      request: { country: "IL", region: undefined, avoid: undefined, users: 0 }
    }]
  },
  {
    from: "idle", event: "`SESSION.JOINED` (gateway g)", condition: "", to: "assigned",
    effect: "adopt g: a room already in use on g stays on g (no split)",
    given: [], send: join("a", "gxy3"), gateway: "gxy3", region: null, sessions: ["a"],
    effects: [
      row(1, "idle", "SESSION.JOINED", "assigned", "gxy3", 1),
      write("gxy3", null, 1),
      schedule(ttlTimer, 1_001_000 + 120_000)
    ]
  },
  {
    from: "assigning", event: "balancer done (g)", condition: "", to: "assigned",
    effect: "persist assignment, answer every waiting request with g",
    given: assigning, send: placed, gateway: "gxy5", region: "IL", sessions: [],
    effects: [
      row(2, "assigning", "BALANCER.DONE", "assigned", "gxy5", 0),
      write("gxy5", "IL", 0),
      schedule(ttlTimer, 1_002_000 + 120_000)
    ]
  },
  {
    from: "assigning", event: "balancer failed", condition: "", to: "idle", effect: "answer waiting requests with 503",
    given: assigning, send: failed, gateway: null, region: null, sessions: [],
    effects: [
      row(2, "assigning", "BALANCER.FAILED", "idle", null, 0),
      { _tag: "ReleaseAssignment", reason: "no gateway available" },
      { _tag: "Log", line: { level: "warn", message: "No gateway available for room" }, gateway: null }
    ]
  },
  {
    from: "assigned", event: "`SERVER.REQUESTED`", condition: "", to: "assigned", effect: "same g (sticky), touch `last_used_at`",
    // a quarter of ASSIGNMENT_TTL after the join last wrote the assignment: due for a touch
    given: assignedWithA, send: { type: "SERVER.REQUESTED", country: "US" }, at: 1_003_000 + 30_000,
    gateway: "gxy5", region: "IL", sessions: ["a"],
    effects: [stored, touch]
  },
  {
    from: "assigned", event: "`SESSION.JOINED` / `SESSION.UPDATED`", condition: "", to: "assigned", effect: "count users, touch `last_used_at`",
    given: assignedWithA, send: join("b"), gateway: "gxy5", region: "IL", sessions: ["a", "b"],
    effects: [row(4, "assigned", "SESSION.JOINED", "assigned", "gxy5", 2), write("gxy5", "IL", 2)]
  },
  {
    from: "assigned", event: "`SESSION.JOINED` / `SESSION.UPDATED`", condition: "", to: "assigned", effect: "count users, touch `last_used_at`",
    given: assignedWithA, send: update("b"), gateway: "gxy5", region: "IL", sessions: ["a", "b"],
    effects: [row(4, "assigned", "SESSION.UPDATED", "assigned", "gxy5", 2), write("gxy5", "IL", 2)]
  },
  {
    from: "assigned", event: "`SESSION.LEFT` and no user left", condition: "no user left", to: "draining", effect: "start the grace timer",
    given: assignedWithA, send: leave("a"), gateway: "gxy5", region: "IL", sessions: [],
    effects: [
      row(4, "assigned", "SESSION.LEFT", "draining", "gxy5", 0),
      cancel(ttlTimer),
      write("gxy5", "IL", 0),
      schedule(graceTimer, 1_004_000 + 30_000)
    ]
  },
  {
    from: "assigned", event: "no session joined within `ASSIGNMENT_TTL` of assignment", condition: "nobody joined", to: "idle",
    effect: "release (a reservation nobody used)",
    given: assignedEmpty, send: ttlTimer, at: 1_002_000 + 120_000, gateway: null, region: null, sessions: [],
    effects: [row(3, "assigned", "after assignmentTtl", "idle", "gxy5", 0), cancel(ttlTimer), ...released("reservation unused")]
  },
  {
    from: "assigned", event: "`GATEWAY.DOWN` (g went offline for `FAILOVER_WAIT_TIME`)", condition: "g is the room's gateway", to: "assigning",
    effect: "reassign (failover), keep the room's original region",
    given: assignedWithA, send: down("gxy5"), gateway: "gxy5", region: "IL", sessions: ["a"],
    effects: [
      row(4, "assigned", "GATEWAY.DOWN", "assigning", "gxy5", 1),
      cancel(ttlTimer),
      { _tag: "SelectGateway", request: { country: "IL", region: "IL", avoid: "gxy5", users: 1 } }
    ]
  },
  {
    from: "draining", event: "`SESSION.JOINED` / `SERVER.REQUESTED`", condition: "", to: "assigned", effect: "same g: a reconnect within the grace keeps its gateway",
    given: draining, send: join("b"), gateway: "gxy5", region: "IL", sessions: ["b"],
    effects: [
      row(5, "draining", "SESSION.JOINED", "assigned", "gxy5", 1),
      cancel(graceTimer),
      write("gxy5", "IL", 1),
      schedule(ttlTimer, 1_005_000 + 120_000)
    ]
  },
  {
    from: "draining", event: "`SESSION.JOINED` / `SERVER.REQUESTED`", condition: "", to: "assigned", effect: "same g: a reconnect within the grace keeps its gateway",
    given: draining, send: { type: "SERVER.REQUESTED", country: "US" }, gateway: "gxy5", region: "IL", sessions: [],
    effects: [
      row(5, "draining", "SERVER.REQUESTED", "assigned", "gxy5", 0),
      cancel(graceTimer),
      touch,
      schedule(ttlTimer, 1_005_000 + 120_000)
    ]
  },
  {
    from: "draining", event: "`DRAIN_GRACE` elapsed", condition: "", to: "idle",
    effect: "delete assignment, log `Cleaned up room assignment`",
    given: draining, send: graceTimer, at: 1_004_000 + 30_000, gateway: null, region: null, sessions: [],
    effects: [row(5, "draining", "after drainGrace", "idle", "gxy5", 0), cancel(graceTimer), ...released("drain grace elapsed", "Cleaned up room assignment")]
  }
]

// SPEC §3's table as it is printed, one line per row: every line has its checks above.
const specLines = [
  "idle | `SERVER.REQUESTED` (country?) | assigning | ask the balancer",
  "idle | `SESSION.JOINED` (gateway g) | assigned | adopt g: a room already in use on g stays on g (no split)",
  "assigning | balancer done (g) | assigned | persist assignment, answer every waiting request with g",
  "assigning | balancer failed | idle | answer waiting requests with 503",
  "assigned | `SERVER.REQUESTED` | assigned | same g (sticky), touch `last_used_at`",
  "assigned | `SESSION.JOINED` / `SESSION.UPDATED` | assigned | count users, touch `last_used_at`",
  "assigned | `SESSION.LEFT` and no user left | draining | start the grace timer",
  "assigned | no session joined within `ASSIGNMENT_TTL` of assignment | idle | release (a reservation nobody used)",
  "assigned | `GATEWAY.DOWN` (g went offline for `FAILOVER_WAIT_TIME`) | assigning | reassign (failover), keep the room's original region",
  "draining | `SESSION.JOINED` / `SERVER.REQUESTED` | assigned | same g: a reconnect within the grace keeps its gateway",
  "draining | `DRAIN_GRACE` elapsed | idle | delete assignment, log `Cleaned up room assignment`"
]

describe("SPEC §3 lifecycle table", () => {
  it("checks every row of the specification's table, and every event a row names", () => {
    assert.deepStrictEqual([...new Set(table.map((r) => `${r.from} | ${r.event} | ${r.to} | ${r.effect}`))], specLines)
    const sent = (from: RoomState) => table.filter((r) => r.from === from).map((r) => r.send.type)
    assert.deepStrictEqual(sent("assigned"), [
      "SERVER.REQUESTED", "SESSION.JOINED", "SESSION.UPDATED", "SESSION.LEFT", ttlTimer.type, "GATEWAY.DOWN"
    ])
    assert.deepStrictEqual(sent("draining"), ["SESSION.JOINED", "SERVER.REQUESTED", graceTimer.type])
  })

  for (const r of table) {
    const when = r.condition === "" ? "" : ` [${r.condition}]`
    it(`${r.from} + ${r.send.type}${when} → ${r.to}: ${r.effect}`, () => {
      const before = roomAfter(r.given)
      assert.strictEqual(before.state, r.from, "the given events lead to the row's state")
      const { snapshot, effects } = step(machine, before, r.send, r.at ?? second(r.given.length + 1))
      assert.strictEqual(snapshot.state, r.to)
      assert.deepInclude(snapshot.context, { room: "2171", gateway: r.gateway, region: r.region })
      assert.deepStrictEqual(snapshot.context.sessions, r.sessions)
      assert.deepStrictEqual(effects, r.effects)
    })
  }
})

// What each state must ignore: the table has no row for these, so the room's
// snapshot stays as it was and the runtime is asked for nothing (no write, no
// history row, no balancer call).
const ignored: ReadonlyArray<{ readonly state: RoomState; readonly given: ReadonlyArray<Input>; readonly why: string; readonly send: Input; readonly at?: number }> = [
  { state: "idle", given: [], why: "a late balancer answer places no room", send: placed },
  { state: "idle", given: [], why: "a late balancer failure", send: failed },
  { state: "idle", given: [], why: "a gateway going down under no room", send: down("gxy5") },
  { state: "idle", given: [], why: "a leave of a session the room never had", send: leave("ghost") },
  { state: "idle", given: [], why: "a stale reservation timer", send: ttlTimer },
  { state: "idle", given: [], why: "a stale grace timer", send: graceTimer },
  { state: "assigning", given: assigning, why: "another request: the balancer runs once", send: requested },
  { state: "assigning", given: assigning, why: "a gateway going down while the balancer chooses", send: down("gxy5") },
  { state: "assigning", given: assigning, why: "a stale reservation timer", send: ttlTimer },
  { state: "assigning", given: assigning, why: "a stale grace timer", send: graceTimer },
  { state: "assigned", given: assignedWithA, why: "a request within a quarter of ASSIGNMENT_TTL of the last write: a sticky hit", send: requested, at: 1_003_000 + 29_999 },
  { state: "assigned", given: assignedWithA, why: "a second join of a counted session", send: join("a") },
  { state: "assigned", given: assignedWithA, why: "a keepalive of a counted session", send: update("a") },
  { state: "assigned", given: assignedWithA, why: "a leave of a session the room does not count", send: leave("ghost") },
  { state: "assigned", given: assignedWithA, why: "another gateway going down", send: down("gxy9") },
  { state: "assigned", given: assignedWithA, why: "a late balancer answer never moves a live room", send: { ...placed, gateway: "gxy2" } },
  { state: "assigned", given: assignedWithA, why: "a late balancer failure", send: failed },
  { state: "assigned", given: assignedWithA, why: "a stale grace timer", send: graceTimer },
  { state: "draining", given: draining, why: "a second leave of the session that left", send: leave("a") },
  { state: "draining", given: draining, why: "another gateway going down", send: down("gxy9") },
  { state: "draining", given: draining, why: "a late balancer answer", send: { ...placed, gateway: "gxy2" } },
  { state: "draining", given: draining, why: "a late balancer failure", send: failed },
  { state: "draining", given: draining, why: "a stale reservation timer", send: ttlTimer }
]

describe("SPEC §3: events a state ignores", () => {
  for (const e of ignored) {
    it(`${e.state} ignores ${e.send.type}: ${e.why}`, () => {
      const before = roomAfter(e.given)
      assert.strictEqual(before.state, e.state)
      const { snapshot, effects } = step(machine, before, e.send, e.at ?? second(e.given.length + 1))
      assert.deepStrictEqual(effects, [])
      assert.deepStrictEqual(snapshot, before)
    })
  }
})

describe("SPEC §3: a row's condition that does not hold", () => {
  it("assigned + SESSION.LEFT with a user left stays assigned, counting one fewer", () => {
    const { snapshot, effects } = step(machine, roomAfter([...assignedWithA, join("b")]), leave("a"), second(5))
    assert.strictEqual(snapshot.state, "assigned")
    assert.deepStrictEqual(snapshot.context.sessions, ["b"])
    assert.deepStrictEqual(effects, [row(5, "assigned", "SESSION.LEFT", "assigned", "gxy5", 1), write("gxy5", "IL", 1)])
  })

  it("assigned with a session joined is not released when ASSIGNMENT_TTL runs out: the spent timer is dropped", () => {
    const { snapshot, effects } = step(machine, roomAfter(assignedWithA), ttlTimer, 1_002_000 + 120_000)
    assert.strictEqual(snapshot.state, "assigned")
    assert.deepInclude(snapshot.context, { gateway: "gxy5", region: "IL" })
    assert.deepStrictEqual(snapshot.timers, {})
    assert.deepStrictEqual(effects, [stored, cancel(ttlTimer)])
  })
})
