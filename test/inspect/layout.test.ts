// The diagram's layout: drawn from the machine definition itself, with no
// two labels (or a label and a state) overlapping — on the room machine and
// on any machine fast-check can make up.
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { roomMachine } from "../../machines/room.machine.ts"
import { machineGraph } from "../../src/inspect/machineGraph.ts"
import { type Definition, edgesOf, layoutMachine, overlaps } from "../../src/inspect/page/layout.ts"
import { graphView } from "../../src/inspect/views.ts"

/** Wider than any glyph of the page's 12px monospace font (7.2px): boxes are at least as big as the text. */
const measure = (text: string) => text.length * 7.5

const roomDefinition = graphView(machineGraph(roomMachine))

describe("machine diagram layout", () => {
  it("draws every state and every transition of the room machine, one label per (from, to)", () => {
    const layout = layoutMachine(roomDefinition, measure)
    assert.deepStrictEqual(layout.states.map((s) => s.name), ["idle", "assigning", "assigned", "draining"])
    for (const t of roomDefinition.transitions) {
      const edge = layout.edges.find((e) => e.from === t.from && e.to === t.to)
      assert.isDefined(edge, `${t.from} → ${t.to}`)
      const at = edge!.lines.findIndex((l) => l.text === t.event)
      assert.isAtLeast(at, 0, `${t.event} on ${t.from} → ${t.to}`)
      if (t.guard !== null) assert.include(edge!.lines.map((l) => l.text), `[${t.guard}]`)
    }
    assert.strictEqual(layout.edges.length, new Set(roomDefinition.transitions.map((t) => `${t.from}→${t.to}`)).size)
    // draining → assigned carries several events, one per line, each guard on the line after its event
    const lines = layout.edges.find((e) => e.from === "draining" && e.to === "assigned")!.lines.map((l) => l.text)
    assert.includeMembers(lines, ["SERVER.REQUESTED", "SESSION.JOINED", "SESSION.UPDATED", "SESSIONS.SYNCED", "[bringsSessions]"])
    assert.strictEqual(lines[lines.indexOf("SESSIONS.SYNCED") + 1], "[bringsSessions]")
  })

  it("no label overlaps another label or a state on the room machine", () => {
    const layout = layoutMachine(roomDefinition, measure)
    assert.deepStrictEqual(overlaps(layout), [])
    for (const e of layout.edges) {
      assert.isAtLeast(e.label.width, Math.max(...e.lines.map((l) => measure(l.text))))
      assert.isAtLeast(e.points.length, 2)
    }
    assert.isAtLeast(layout.width, Math.max(...layout.states.map((s) => s.x + s.width)))
    assert.isAtLeast(layout.height, Math.max(...layout.edges.map((e) => e.label.y + e.label.height)))
  })

  it("a state's loop to itself is drawn beside the state, and the drawing holds every point and label", () => {
    const layout = layoutMachine(roomDefinition, measure)
    const loops = layout.edges.filter((e) => e.from === e.to)
    assert.deepStrictEqual(loops.map((e) => e.from).sort(), ["assigned", "assigning"])
    for (const e of loops) {
      const state = layout.states.find((s) => s.name === e.from)!
      // the label starts within 80 px of the state's left or right side, level with it
      const gap = Math.min(Math.abs(e.label.x - (state.x + state.width)), Math.abs(state.x - (e.label.x + e.label.width)))
      assert.isAtMost(gap, 80, `${e.from}'s loop label is ${gap} px away`)
      assert.isTrue(e.label.y < state.y + state.height && state.y < e.label.y + e.label.height, `${e.from}'s loop label is level with it`)
      // the loop leaves the state and comes back to it
      for (const p of [e.points[0]!, e.points.at(-1)!]) {
        assert.isTrue(Math.abs(p.x - state.x) < 1 || Math.abs(p.x - (state.x + state.width)) < 1, `${e.from}'s loop starts and ends on its side`)
      }
    }
    for (const e of layout.edges) {
      for (const p of e.points) assert.isTrue(p.x >= 0 && p.x <= layout.width && p.y >= 0 && p.y <= layout.height, `${e.from}→${e.to} point inside`)
      assert.isAtMost(e.label.x + e.label.width, layout.width)
      assert.isAtLeast(e.label.x, 0)
    }
  })

  it("overlaps finds boxes that do overlap", () => {
    const layout = layoutMachine(roomDefinition, measure)
    const [a, b] = layout.edges
    const moved = { ...layout, edges: [a!, { ...b!, label: { ...b!.label, x: a!.label.x + 2, y: a!.label.y + 2 } }] }
    assert.deepInclude(overlaps(moved), [`label ${a!.from}→${a!.to}`, `label ${b!.from}→${b!.to}`])
  })

  it("no label overlaps another label or a state on any machine (self-loops, cycles, parallel events, long names)", () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.]{0,23}$/)
    const machine = fc.uniqueArray(name, { minLength: 2, maxLength: 7 }).chain((states) =>
      fc.record({
        states: fc.constant(states),
        transitions: fc.array(
          fc.record({
            from: fc.constantFrom(...states),
            to: fc.constantFrom(...states),
            event: name,
            guard: fc.option(name, { nil: null })
          }),
          { minLength: 1, maxLength: 16 }
        )
      })
    )
    fc.assert(
      fc.property(machine, ({ states, transitions }) => {
        const definition: Definition = { id: "m", initial: states[0]!, states, transitions }
        const layout = layoutMachine(definition, measure)
        assert.deepStrictEqual(overlaps(layout), [])
        assert.strictEqual(layout.edges.length, edgesOf(definition).length)
      }),
      { numRuns: 200 }
    )
  })
})
