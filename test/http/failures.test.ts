// Each domain failure answers with the status a client of the old service
// saw for it, and its message as the body's `error`.
import { assert, describe, it } from "@effect/vitest"
import { Forbidden } from "../../src/auth/access.ts"
import {
  BadEvent,
  DatabaseUnavailable,
  type DomainFailure,
  ForeignGatewayEvent,
  LegacyGatewayMissing,
  NoGatewayAvailable,
  ProtocolError,
  RoomNotFound,
  RoomUnavailable
} from "../../src/domain/errors.ts"
import { BadRequest, NotFound, ServerError, ServiceUnavailable } from "../../src/domain/wireErrors.ts"
import { toHttpError } from "../../src/http/httpErrors.ts"

const cases: ReadonlyArray<readonly [DomainFailure, new (...args: never) => unknown, string]> = [
  [new RoomNotFound({ room: "2171" }), NotFound, "room 2171 not found"],
  [new ProtocolError({ reason: "rfid is empty" }), BadRequest, "protocol error: rfid is empty"],
  [new BadEvent({ reason: "event.data.id: not a feed" }), BadRequest, "invalid request body: event.data.id: not a feed"],
  [new ForeignGatewayEvent({ gateway: "gxy1", emitter: "gxy2" }), Forbidden, "forbidden: gxy1's credentials act for gxy1 only, and this event names gxy2 as its emitter"],
  [new NoGatewayAvailable({ room: "2171", reason: "no gateway can take the room" }), ServiceUnavailable, "no gateway can take the room"],
  [new RoomUnavailable({ room: "2171", message: "the room did not answer" }), ServiceUnavailable, "the room did not answer"],
  [new DatabaseUnavailable({ operation: "SessionStore.upsert", reason: "connection refused" }), ServiceUnavailable, "database unavailable"],
  [new LegacyGatewayMissing({ room: "2171", defaultGatewayId: null }), ServerError, "gateway not found for room 2171 in legacy mode (SCALE=false): fix the room's default gateway"]
]

describe("domain failures on the wire", () => {
  for (const [failure, wire, error] of cases) {
    it(`${failure._tag} answers as ${wire.name}`, () => {
      const answer = toHttpError(failure)
      assert.instanceOf(answer, wire)
      assert.strictEqual((answer as { error: string }).error, error)
    })
  }
  it("the statuses are those of SPEC and gxydb-api", () => {
    assert.deepStrictEqual(cases.map(([f]) => [f._tag, f.status]), [
      ["RoomNotFound", 404], ["ProtocolError", 400], ["BadEvent", 400], ["ForeignGatewayEvent", 403],
      ["NoGatewayAvailable", 503], ["RoomUnavailable", 503], ["DatabaseUnavailable", 503], ["LegacyGatewayMissing", 500]
    ])
  })
})
