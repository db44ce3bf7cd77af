// The default gateway of a room created over the real-time API: the usable
// gateway that is already the default of the fewest rooms, ties in
// AVAILABLE_JANUS_SERVERS order.
import { assert, describe, it } from "@effect/vitest"
import { leastUsedDefault } from "../../src/balancer/defaultGateway.ts"

const available = ["gxy1", "gxy2", "gxy3"]
const all = new Set(available)

describe("default gateway of a new room", () => {
  it("the gateway that is the default of the fewest rooms", () => {
    assert.strictEqual(leastUsedDefault(available, all, ["gxy1", "gxy1", "gxy2", "gxy3", "gxy3"]), "gxy2")
    assert.strictEqual(leastUsedDefault(available, all, ["gxy1", "gxy2", "gxy2"]), "gxy3")
  })

  it("ties go to the earlier in AVAILABLE_JANUS_SERVERS, and rooms without a default count for none", () => {
    assert.strictEqual(leastUsedDefault(available, all, []), "gxy1")
    assert.strictEqual(leastUsedDefault(["gxy3", "gxy2", "gxy1"], all, [null, null]), "gxy3")
    assert.strictEqual(leastUsedDefault(available, all, ["gxy1", null, "gxy2"]), "gxy3")
    assert.strictEqual(leastUsedDefault(available, all, ["gxy1", "gxy3"]), "gxy2")
  })

  it("only usable gateways (enabled, not draining); none usable: null", () => {
    assert.strictEqual(leastUsedDefault(available, new Set(["gxy2", "gxy3"]), ["gxy2"]), "gxy3")
    assert.strictEqual(leastUsedDefault(available, new Set(["gxy2"]), ["gxy2", "gxy2"]), "gxy2")
    assert.strictEqual(leastUsedDefault(available, new Set(["gxy9"]), []), null)
    assert.strictEqual(leastUsedDefault(available, new Set(), []), null)
  })

  it("counts the defaults from any iterable", () => {
    function* defaults() {
      yield "gxy1"
      yield "gxy2"
      yield "gxy1"
    }
    assert.strictEqual(leastUsedDefault(available, all, defaults()), "gxy3")
    assert.strictEqual(leastUsedDefault(["gxy1", "gxy2"], all, defaults()), "gxy2")
  })
})
