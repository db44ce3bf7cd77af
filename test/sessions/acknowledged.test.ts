import { assert, describe, it } from "@effect/vitest"
import { Acknowledged } from "../../src/sessions/acknowledged.ts"

const place = { session: 7, room: "1051", gateway: "gxy1" }

describe("acknowledged sessions", () => {
  it("spares a session acknowledged in the same room on the same gateway, for one to two windows", () => {
    const a = new Acknowledged(60_000)
    assert.isFalse(a.has(place, 0))
    a.add(place, 0)
    assert.isTrue(a.has(place, 59_999))
    assert.isTrue(a.has(place, 60_000), "rotated into the previous generation")
    assert.isFalse(a.has(place, 120_000), "two windows later the room is told again")
  })

  it("a different room or gateway, or a session that left, is told again", () => {
    const a = new Acknowledged(60_000)
    a.add(place, 0)
    assert.isFalse(a.has({ ...place, room: "1052" }, 1))
    assert.isFalse(a.has({ ...place, gateway: "gxy2" }, 1))
    a.remove(place.session)
    assert.isFalse(a.has(place, 2))
  })

  it("finds the session a keepalive names while its room counts it there", () => {
    const a = new Acknowledged(60_000)
    const key = { userId: "alice", gateway: "gxy1", gatewaySession: 11 }
    a.add(place, 0, key)
    assert.strictEqual(a.sessionOf({ ...key, room: "1051" }, 1), 7)
    assert.isUndefined(a.sessionOf({ ...key, room: "1052" }, 1), "another room: the full path")
    assert.isUndefined(a.sessionOf({ ...key, gatewaySession: 12, room: "1051" }, 1))
    a.remove(7)
    assert.isUndefined(a.sessionOf({ ...key, room: "1051" }, 2), "left: the full path")
  })

  it("after a long quiet both generations are dropped", () => {
    const a = new Acknowledged(60_000)
    a.add(place, 0)
    assert.isFalse(a.has(place, 10 * 60_000))
  })
})
