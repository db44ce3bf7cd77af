import { assert, describe, it } from "@effect/vitest"
import { Acknowledged } from "../../src/sessions/acknowledged.ts"

const place = { session: 7, room: "1051", gateway: "gxy1" }

describe("acknowledged sessions", () => {
  it("spares a session acknowledged in the same room on the same gateway, for one to two windows", () => {
    const a = new Acknowledged(60_000)
    assert.isFalse(a.has(place, 0))
    a.add(place, 0, undefined, 0)
    assert.isTrue(a.has(place, 59_999))
    assert.isTrue(a.has(place, 60_000), "rotated into the previous generation")
    assert.isFalse(a.has(place, 120_000), "two windows later the room is told again")
  })

  it("a different room or gateway, or a session that left, is told again", () => {
    const a = new Acknowledged(60_000)
    a.add(place, 0, undefined, 0)
    assert.isFalse(a.has({ ...place, room: "1052" }, 1))
    assert.isFalse(a.has({ ...place, gateway: "gxy2" }, 1))
    a.remove(place.session)
    assert.isFalse(a.has(place, 2))
  })

  it("finds the session a keepalive names while its room counts it there", () => {
    const a = new Acknowledged(60_000)
    const key = { userId: "alice", gateway: "gxy1", gatewaySession: 11 }
    a.add(place, 0, key, 0)
    assert.strictEqual(a.sessionOf({ ...key, room: "1051" }, 1), 7)
    assert.isUndefined(a.sessionOf({ ...key, room: "1052" }, 1), "another room: the full path")
    assert.isUndefined(a.sessionOf({ ...key, gatewaySession: 12, room: "1051" }, 1))
    a.remove(7)
    assert.isUndefined(a.sessionOf({ ...key, room: "1051" }, 2), "left: the full path")
  })

  it("a room that forgets its sessions (it left assigned) hears them again; an acknowledgement from before the forgetting is not recorded", () => {
    const a = new Acknowledged(60_000)
    const key = { userId: "alice", gateway: "gxy1", gatewaySession: 11 }
    const before = a.epochOf("1051")
    a.add(place, 0, key, before)
    a.forgetRoom("1051")
    assert.isFalse(a.has(place, 1))
    assert.isUndefined(a.sessionOf({ ...key, room: "1051" }, 1))
    a.add(place, 2, key, before)
    assert.isFalse(a.has(place, 3), "asked before the room forgot: not recorded")
    a.add(place, 4, key, a.epochOf("1051"))
    assert.isTrue(a.has(place, 5))
    assert.isFalse(a.has({ ...place, session: 8, room: "1052" }, 6))
    a.forgetAll()
    assert.isFalse(a.has(place, 7))
  })

  it("after a long quiet both generations are dropped", () => {
    const a = new Acknowledged(60_000)
    a.add(place, 0, undefined, 0)
    assert.isFalse(a.has(place, 10 * 60_000))
  })
})
