// The machine's events beyond SPEC §3's table (ROOM.LOADED, SESSIONS.SYNCED,
// SESSION.UPDATED) and its pacing of writes, checked against what the
// README's "The room machine" table promises, with the expected snapshot
// and effects written out.
import { assert, describe, it } from "@effect/vitest"
import type { RoomState } from "../../machines/room.machine.ts"
import { type RoomEffect, step } from "../../machines/step.ts"
import {
  assignedEmpty, assignedWithA, assigning, cancel, down, draining, failed, graceTimer, type Input, join, leave, loaded,
  machine, persisted, released, requested, roomAfter, schedule, second, stored, synced, touch, ttlTimer, update, write
} from "./given.ts"

interface Expected {
  readonly state: RoomState
  readonly gateway: string | null
  readonly region: string | null
  readonly sessions: ReadonlyArray<string>
  readonly effects: ReadonlyArray<RoomEffect>
}

const check = (given: ReadonlyArray<Input>, send: Input, at: number, expected: Expected) => {
  const { snapshot, effects } = step(machine, roomAfter(given), send, at)
  assert.strictEqual(snapshot.state, expected.state)
  assert.deepInclude(snapshot.context, { gateway: expected.gateway, region: expected.region })
  assert.deepStrictEqual(snapshot.context.sessions, expected.sessions)
  assert.deepStrictEqual(effects, expected.effects)
  return snapshot
}

// users stranded by a failover that found no gateway: idle, no gateway, one session
const stranded = [...assignedWithA, down("gxy5"), failed]

describe("README: a session shows up on a gateway in a room nobody assigned", () => {
  it("idle + SESSION.UPDATED → assigned, adopting that gateway", () =>
    check([], update("a", "gxy3"), second(1), {
      state: "assigned", gateway: "gxy3", region: null, sessions: ["a"],
      effects: [persisted(1, "idle", "SESSION.UPDATED", "assigned", "gxy3", 1), write("gxy3", null, 1), schedule(ttlTimer, 1_001_000 + 120_000)]
    }))

  it("draining + SESSION.UPDATED → assigned, on the same gateway", () =>
    check(draining, update("b"), second(5), {
      state: "assigned", gateway: "gxy5", region: "IL", sessions: ["b"],
      effects: [
        persisted(5, "draining", "SESSION.UPDATED", "assigned", "gxy5", 1), cancel(graceTimer), write("gxy5", "IL", 1),
        schedule(ttlTimer, 1_005_000 + 120_000)
      ]
    }))

  it("the first user of a reservation decides where the room is: its gateway, and no region the balancer chose for another", () =>
    check(assignedEmpty, join("a", "gxy7"), second(3), {
      state: "assigned", gateway: "gxy7", region: null, sessions: ["a"],
      effects: [persisted(3, "assigned", "SESSION.JOINED", "assigned", "gxy7", 1), write("gxy7", null, 1)]
    }))

  it("a keepalive is a join to a reservation nobody joined: the room goes to that session's gateway", () =>
    check(assignedEmpty, update("a", "gxy7"), second(3), {
      state: "assigned", gateway: "gxy7", region: null, sessions: ["a"],
      effects: [persisted(3, "assigned", "SESSION.UPDATED", "assigned", "gxy7", 1), write("gxy7", null, 1)]
    }))

  it("a stranded room's users are placed again by their next keepalive, and can still leave it", () => {
    check(stranded, update("a", "gxy7"), second(6), {
      state: "assigned", gateway: "gxy7", region: null, sessions: ["a"],
      effects: [persisted(6, "idle", "SESSION.UPDATED", "assigned", "gxy7", 1), write("gxy7", null, 1), schedule(ttlTimer, 1_006_000 + 120_000)]
    })
    check(stranded, leave("a"), second(6), {
      state: "idle", gateway: null, region: null, sessions: [], effects: [persisted(6, "idle", "SESSION.LEFT", "idle", null, 0)]
    })
  })
})

describe("README: more users ask", () => {
  it("an unused reservation is renewed by a request a quarter of ASSIGNMENT_TTL after it was made, restarting its TTL", () => {
    const renewed = check(assignedEmpty, requested, 1_002_000 + 30_000, {
      state: "assigned", gateway: "gxy5", region: "IL", sessions: [],
      effects: [stored, cancel(ttlTimer), touch, schedule(ttlTimer, 1_032_000 + 120_000)]
    })
    assert.deepInclude(renewed.context, { renewedAt: 1_032_000, touchedAt: 1_032_000, since: 1_032_000 })
    // the next renewal is due a quarter of the TTL after this one, not after the assignment
    assert.deepStrictEqual(step(machine, renewed, requested, 1_032_000 + 29_999).effects, [])
    assert.deepStrictEqual(step(machine, renewed, requested, 1_032_000 + 30_000).effects.length, 4)
  })

  it("a request sooner than that renews nothing and writes nothing", () =>
    check(assignedEmpty, requested, 1_002_000 + 29_999, { state: "assigned", gateway: "gxy5", region: "IL", sessions: [], effects: [] }))

  it("with users in it, a request touches `last_used_at` a quarter of ASSIGNMENT_TTL after the last write, and paces the next", () => {
    const touched = check(assignedWithA, requested, 1_003_000 + 30_000, {
      state: "assigned", gateway: "gxy5", region: "IL", sessions: ["a"], effects: [stored, touch]
    })
    assert.deepInclude(touched.context, { touchedAt: 1_033_000, renewedAt: 1_003_000, since: 1_002_000 })
    assert.deepStrictEqual(step(machine, touched, requested, 1_033_000 + 29_999).effects, [])
  })
})

describe("README: a user reconnects within the grace", () => {
  // the reconnect wrote the assignment: the next touch is due a quarter of ASSIGNMENT_TTL after it
  const reconnects = [
    { type: "SERVER.REQUESTED" } as const, join("b"), update("b")
  ]
  for (const reconnect of reconnects) {
    it(`${reconnect.type} while draining: the next request within a quarter of ASSIGNMENT_TTL writes nothing`, () => {
      const at = 1_004_000 + 29_000
      const back = step(machine, roomAfter(draining), reconnect, at).snapshot
      assert.strictEqual(back.state, "assigned")
      assert.deepInclude(back.context, { renewedAt: at, touchedAt: at, since: at, gateway: "gxy5", region: "IL" })
      assert.deepStrictEqual(step(machine, back, requested, at + 29_999).effects, [])
    })
  }
})

describe("README: its gateway goes down", () => {
  it("draining + GATEWAY.DOWN of its gateway → idle, released", () =>
    check(draining, down("gxy5"), second(5), {
      state: "idle", gateway: null, region: null, sessions: [],
      effects: [
        persisted(5, "draining", "GATEWAY.DOWN", "idle", "gxy5", 0),
        cancel(graceTimer),
        ...released("gateway down while draining")
      ]
    }))

  it("a failover that finds no gateway leaves the room idle with its users, logged on the gateway it lost", () =>
    check([...assignedWithA, down("gxy5")], failed, second(5), {
      state: "idle", gateway: null, region: null, sessions: ["a"],
      effects: [
        persisted(5, "assigning", "BALANCER.FAILED", "idle", "gxy5", 1),
        { _tag: "ReleaseAssignment", reason: "no gateway available" },
        { _tag: "Log", line: { level: "warn", message: "No gateway available for room" }, gateway: "gxy5" }
      ]
    }))

  it("the balancer's new gateway for a moved room keeps its users", () =>
    check([...assignedWithA, down("gxy5")], { type: "BALANCER.DONE", gateway: "gxy2", region: "IL" }, second(5), {
      state: "assigned", gateway: "gxy2", region: "IL", sessions: ["a"],
      effects: [persisted(5, "assigning", "BALANCER.DONE", "assigned", "gxy2", 1), write("gxy2", "IL", 1), schedule(ttlTimer, 1_005_000 + 120_000)]
    }))
})

describe("README: the process restarts, or the room moves (ROOM.LOADED)", () => {
  it("an assignment made before this service is adopted, with its region and sessions", () =>
    check([], loaded({ gateway: "gxy4", region: "US" }, ["a", "gxy4"]), second(1), {
      state: "assigned", gateway: "gxy4", region: "US", sessions: ["a"],
      effects: [persisted(1, "idle", "ROOM.LOADED", "assigned", "gxy4", 1), write("gxy4", "US", 1), schedule(ttlTimer, 1_001_000 + 120_000)]
    }))

  it("a room in use with no assignment goes where most of its sessions are", () =>
    check([], loaded(null, ["a", "gxy2"], ["b", "gxy7"], ["c", "gxy7"]), second(1), {
      state: "assigned", gateway: "gxy7", region: null, sessions: ["a", "b", "c"],
      effects: [persisted(1, "idle", "ROOM.LOADED", "assigned", "gxy7", 3), write("gxy7", null, 3), schedule(ttlTimer, 1_001_000 + 120_000)]
    }))

  it("a stranded room whose users left while nobody listened forgets them", () =>
    check(stranded, loaded(null), second(6), {
      state: "idle", gateway: null, region: null, sessions: [], effects: [persisted(6, "idle", "ROOM.LOADED", "idle", null, 0)]
    }))

  it("an unused room loads without a write", () =>
    check([], loaded(null), second(1), { state: "idle", gateway: null, region: null, sessions: [], effects: [] }))

  it("an assignment left half-done is made again: the balancer is asked once more, for the same room", () => {
    check(assigning, loaded(null), second(2), {
      state: "assigning", gateway: null, region: null, sessions: [],
      effects: [stored, { _tag: "SelectGateway", request: { country: "IL", region: undefined, avoid: undefined, users: 0 } }]
    })
    check(assigning, loaded(null, ["b", "gxy3"]), second(2), {
      state: "assigning", gateway: null, region: null, sessions: ["b"],
      effects: [
        persisted(2, "assigning", "ROOM.LOADED", "assigning", null, 1),
        { _tag: "SelectGateway", request: { country: "IL", region: undefined, avoid: undefined, users: 1 } }
      ]
    })
    check([...assignedWithA, down("gxy5")], loaded(null, ["a", "gxy5"]), second(5), {
      state: "assigning", gateway: "gxy5", region: "IL", sessions: ["a"],
      effects: [stored, { _tag: "SelectGateway", request: { country: "IL", region: "IL", avoid: "gxy5", users: 1 } }]
    })
  })

  it("sessions that went while nobody listened drain the room (emptiedUnnoticed)", () =>
    check(assignedWithA, loaded({ gateway: "gxy5", region: "IL" }), second(4), {
      state: "draining", gateway: "gxy5", region: "IL", sessions: [],
      effects: [persisted(4, "assigned", "ROOM.LOADED", "draining", "gxy5", 0), cancel(ttlTimer), write("gxy5", "IL", 0), schedule(graceTimer, 1_004_000 + 30_000)]
    }))

  it("sessions that came while nobody listened are counted, in an assigned and in a draining room", () => {
    check(assignedWithA, loaded({ gateway: "gxy5", region: "IL" }, ["a", "gxy5"], ["b", "gxy5"]), second(4), {
      state: "assigned", gateway: "gxy5", region: "IL", sessions: ["a", "b"],
      effects: [persisted(4, "assigned", "ROOM.LOADED", "assigned", "gxy5", 2), write("gxy5", "IL", 2)]
    })
    check(draining, loaded({ gateway: "gxy5", region: "IL" }, ["b", "gxy5"]), second(5), {
      state: "assigned", gateway: "gxy5", region: "IL", sessions: ["b"],
      effects: [persisted(5, "draining", "ROOM.LOADED", "assigned", "gxy5", 1), cancel(graceTimer), write("gxy5", "IL", 1), schedule(ttlTimer, 1_005_000 + 120_000)]
    })
  })

  it("a draining room whose users came back on another gateway follows them there", () =>
    check(draining, loaded({ gateway: "gxy5", region: "IL" }, ["b", "gxy7"], ["c", "gxy7"]), second(5), {
      state: "assigned", gateway: "gxy7", region: null, sessions: ["b", "c"],
      effects: [persisted(5, "draining", "ROOM.LOADED", "assigned", "gxy7", 2), cancel(graceTimer), write("gxy7", null, 2), schedule(ttlTimer, 1_005_000 + 120_000)]
    }))

  it("a reservation nobody joined reloads as it was, its row written again", () =>
    check(assignedEmpty, loaded({ gateway: "gxy5", region: "IL" }), second(3), {
      state: "assigned", gateway: "gxy5", region: "IL", sessions: [], effects: [write("gxy5", "IL", 0)]
    }))

  it("a draining room that is still empty stays draining", () =>
    check(draining, loaded({ gateway: "gxy5", region: "IL" }), second(5), { state: "draining", gateway: "gxy5", region: "IL", sessions: [], effects: [] }))
})

describe("README: a join or leave never reached the room (SESSIONS.SYNCED)", () => {
  it("idle: sessions found place the room on their gateway; none leaves it idle", () => {
    check([], synced(["a", "gxy3"]), second(1), {
      state: "assigned", gateway: "gxy3", region: null, sessions: ["a"],
      effects: [persisted(1, "idle", "SESSIONS.SYNCED", "assigned", "gxy3", 1), write("gxy3", null, 1), schedule(ttlTimer, 1_001_000 + 120_000)]
    })
    check([], synced(), second(1), { state: "idle", gateway: null, region: null, sessions: [], effects: [] })
    check(stranded, synced(), second(6), {
      state: "idle", gateway: null, region: null, sessions: [], effects: [persisted(6, "idle", "SESSIONS.SYNCED", "idle", null, 0)]
    })
  })

  it("assigned: a leave nobody told drains the room, a join nobody told is counted", () => {
    check(assignedWithA, synced(), second(4), {
      state: "draining", gateway: "gxy5", region: "IL", sessions: [],
      effects: [persisted(4, "assigned", "SESSIONS.SYNCED", "draining", "gxy5", 0), cancel(ttlTimer), write("gxy5", "IL", 0), schedule(graceTimer, 1_004_000 + 30_000)]
    })
    check(assignedWithA, synced(["a", "gxy5"], ["b", "gxy5"]), second(4), {
      state: "assigned", gateway: "gxy5", region: "IL", sessions: ["a", "b"],
      effects: [persisted(4, "assigned", "SESSIONS.SYNCED", "assigned", "gxy5", 2), write("gxy5", "IL", 2)]
    })
  })

  it("draining: a join nobody told brings the room back, on the gateway its users are on", () => {
    check(draining, synced(["b", "gxy7"]), second(5), {
      state: "assigned", gateway: "gxy7", region: null, sessions: ["b"],
      effects: [persisted(5, "draining", "SESSIONS.SYNCED", "assigned", "gxy7", 1), cancel(graceTimer), write("gxy7", null, 1), schedule(ttlTimer, 1_005_000 + 120_000)]
    })
    check(draining, synced(), second(5), { state: "draining", gateway: "gxy5", region: "IL", sessions: [], effects: [] })
  })
})
