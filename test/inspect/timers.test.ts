// What the inspector says a room's pending timer will do: asked of the
// machine, so a stored deadline whose timer would change nothing (an
// assigned room with users past its reservation's TTL) is not shown.
import { assert, describe, it } from "@effect/vitest"
import { roomMachine } from "../../machines/room.machine.ts"
import { pendingTimer } from "../../src/inspect/timers.ts"
import { machineView } from "../../src/inspect/views.ts"

const at = Date.UTC(2026, 10, 22, 17, 24, 52)

describe("a room's pending timer, as the inspector shows it", () => {
  it("a draining room releases its gateway when the grace ends", () => {
    assert.deepStrictEqual(pendingTimer({ state: "draining", gateway: "gxy1", region: null, sessions: 0, deadline: at }), {
      at,
      event: "after drainGrace",
      to: "idle",
      releases: true
    })
  })

  it("an assigned room nobody joined releases its reservation when the TTL ends", () => {
    assert.deepStrictEqual(pendingTimer({ state: "assigned", gateway: "gxy1", region: "IL", sessions: 0, deadline: at }), {
      at,
      event: "after assignmentTtl",
      to: "idle",
      releases: true
    })
  })

  it("an assigned room with users has no timer that can act, whatever deadline is stored", () => {
    for (const sessions of [1, 2, 250]) {
      assert.isNull(pendingTimer({ state: "assigned", gateway: "gxy1", region: null, sessions, deadline: at }), `${sessions} users`)
    }
  })

  it("no deadline, a state without timers, or a state the machine does not know: nothing", () => {
    assert.isNull(pendingTimer({ state: "draining", gateway: "gxy1", region: null, sessions: 0, deadline: null }))
    assert.isNull(pendingTimer({ state: "idle", gateway: null, region: null, sessions: 0, deadline: at }))
    assert.isNull(pendingTimer({ state: "assigning", gateway: null, region: null, sessions: 0, deadline: at }))
    assert.isNull(pendingTimer({ state: "retired", gateway: null, region: null, sessions: 0, deadline: at }))
  })

  it("the machine's timers that change a room's state are guarded only by what a room's row tells (its number of sessions)", () => {
    // pendingTimer judges guards on the row's state, gateway, region and session count:
    // a timer guarded by anything else would need the whole stored context.
    const guards = (changesState: boolean) =>
      Object.values(roomMachine.root.states).flatMap((node) =>
        node.after.filter((t) => (t.target !== undefined) === changesState).map((t) =>
          `${node.key} ${t.eventType.split(".")[2]} ${t.guard === undefined ? "-" : String((t.guard as { type?: string }).type ?? t.guard)}`
        )
      )
    assert.deepStrictEqual(guards(true), ["assigned assignmentTtl isEmpty", "draining drainGrace -"])
    // the one that does not (a young reservation settling) is never the deadline a room shows
    assert.deepStrictEqual(guards(false), ["assigned settleTime youthEnded"])
  })


  it("a listed room's deadline comes from its stored timers; an entry not shaped as a timer is left out, not a failed listing", () => {
    const row = {
      id: 1, room: "2171", name: "Room 1", disabled: false, state: "draining", gateway: "gxy1", region: null, sessions: 0, seq: 3,
      updated: at, last_seq: null, last_from: null, last_event: null, last_to: null, last_gateway: null, last_at: null
    }
    const grace = { at, event: { type: "xstate.after.drainGrace.room.draining" } }
    const view = machineView(false)({ ...row, timers: { [grace.event.type]: grace, edited: { at: "soon" } } })
    assert.strictEqual(view.deadline, new Date(at).toISOString())
    assert.deepStrictEqual(view.timer, { at: new Date(at).toISOString(), event: "after drainGrace", to: "idle", releases: true })
    assert.isNull(machineView(false)({ ...row, timers: null }).deadline)
  })
})
