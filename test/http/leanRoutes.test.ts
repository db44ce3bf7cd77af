// The three endpoints of a lesson start are served by lean router routes
// (src/http/leanRoutes.ts), not by the API's routes. They answer as the API
// answered them: the same statuses and bodies for good requests, for each
// kind of bad input and for refused credentials. Every expected answer below
// is written out from what the API's routes answered before these existed.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Api, ServedApi } from "../../src/http/api.ts"
import { backend } from "../support/database.ts"
import { bearer, signHs256 } from "../support/identity.ts"
import { serviceOnFreshDatabase } from "../support/service.ts"

const secret = "test-secret-of-at-least-32-bytes!!"
const json = { "content-type": "application/json" }
const roomIdRule = "must be a positive integer or a string id of 1 to 64 characters [A-Za-z0-9_.:-]"
const ana = { room: 2171, janus: "gxy1", display: "Ana", rfid: "ana-1", session: 1, handle: 2, camera: true, question: false }

/** A request as sent, body and content type untouched; the answer's status, JSON body and headers. */
const raw = (base: string, method: string, path: string, headers: Record<string, string>, body?: string) =>
  Effect.promise(async () => {
    const response = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body }) })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as any, headers: response.headers }
  })

/** method, path, headers, body; the status and body the API answers. */
const rows: ReadonlyArray<readonly [string, string, Record<string, string>, string | undefined, number, unknown]> = [
  ["POST", "/v2/room_server", json, JSON.stringify({ room: 2171, geo: { country_code: "IL" } }), 200, { janus: "gxy1" }],
  // any content type is JSON to a client route
  ["POST", "/v2/room_server", { "content-type": "text/plain" }, JSON.stringify({ room: "2171" }), 200, { janus: "gxy1" }],
  ["POST", "/v2/room_server", json, "{not json", 400, { error: "invalid request body: the body is not valid JSON" }],
  ["POST", "/v2/room_server", json, "", 400, { error: "invalid request body: the body must be a JSON object" }],
  ["POST", "/v2/room_server", json, JSON.stringify({ room: "bad id!" }), 400, { error: `invalid request body: room: ${roomIdRule}` }],
  ["POST", "/v2/room_server", json, JSON.stringify({ room: 2171, pad: "x".repeat(70_000) }), 413, { error: "request body too large (at most 64 KiB)" }],
  ["POST", "/v2/room_server", json, JSON.stringify({ room: 99999 }), 404, { error: "room 99999 not found" }],
  ["PUT", "/users/ana", json, JSON.stringify(ana), 200, { result: "success" }],
  ["PUT", "/users/ana", json, JSON.stringify({ ...ana, rfid: "" }), 400, { error: "protocol error: rfid is empty" }],
  ["PUT", "/users/ana", json, JSON.stringify({ ...ana, room: 99999 }), 400, { error: "protocol error: unknown room 99999" }],
  ["GET", "/room/bad!id", {}, undefined, 400, { error: `invalid path: room: ${roomIdRule}` }],
  ["GET", "/room/99999", {}, undefined, 404, { error: "room 99999 not found" }]
]

describe(`the lean routes (${backend})`, () => {
  it("serve the three endpoints the API's routes leave out; the document lists them", () => {
    const endpoints = (api: typeof Api | typeof ServedApi) => Object.keys((api.groups as Record<string, { endpoints: object }>)["clients"]!.endpoints)
    assert.deepStrictEqual(endpoints(Api).filter((e) => !endpoints(ServedApi).includes(e)).sort(), ["keepalive", "liveRoom", "roomServer"])
  })

  it.live("answer good and bad requests as the API does", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ SCALE: "true", AVAILABLE_JANUS_SERVERS: "gxy1" })
      for (const [method, path, headers, body, status, expected] of rows) {
        const reply = yield* raw(base, method, path, headers, body)
        assert.deepStrictEqual({ status: reply.status, body: reply.body }, { status, body: expected }, `${method} ${path} ${body?.slice(0, 40)}`)
      }
      const room = yield* raw(base, "GET", "/room/2171", {})
      assert.strictEqual(room.status, 200)
      assert.deepInclude(room.body, { room: 2171, janus: "gxy1", description: "Room 1", num_users: 1, questions: false, region: "", extra: null })
      assert.deepInclude(room.body.users[0], { id: "ana", display: "Ana", janus: "gxy1", room: 2171, rfid: "ana-1", camera: true, mic: false })
      // the router's middleware is theirs too: CORS, and a wrong method named with the allowed one
      const cors = yield* raw(base, "POST", "/v2/room_server", { ...json, origin: "https://galaxy.example" }, JSON.stringify({ room: 2171 }))
      assert.strictEqual(cors.headers.get("access-control-allow-origin"), "*")
      const wrongMethod = yield* raw(base, "DELETE", "/users/ana", {})
      assert.deepStrictEqual([wrongMethod.status, wrongMethod.headers.get("allow"), wrongMethod.body], [405, "PUT", { error: "method not allowed: DELETE /users/ana takes PUT" }])
    }).pipe(Effect.scoped))

  it.live("refuse credentials as the clients' endpoints do", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ SCALE: "true", AUTH_JWT_SECRET: secret })
      const user = yield* signHs256(secret, { roles: ["gxy_user"] })
      const noRole = yield* signHs256(secret, { roles: [] })
      const wrongSecret = yield* signHs256("another-secret-of-32-bytes-or-more", { roles: ["gxy_user"] })
      for (const [method, path, body] of [["POST", "/v2/room_server", JSON.stringify({ room: 2171 })], ["PUT", "/users/ana", JSON.stringify(ana)], ["GET", "/room/2171", undefined]] as const) {
        const headers = body === undefined ? {} : json
        const missing = yield* raw(base, method, path, headers, body)
        assert.deepStrictEqual([missing.status, missing.headers.get("www-authenticate")], [401, `Bearer realm="room-orchestrator"`], `${method} ${path}`)
        assert.match(missing.body.error, /credentials|token|authorization/i)
        assert.match((yield* raw(base, method, path, { ...headers, ...bearer(wrongSecret) }, body)).body.error, /bad signature/)
        assert.strictEqual((yield* raw(base, method, path, { ...headers, ...bearer(noRole) }, body)).status, 403)
        assert.strictEqual((yield* raw(base, method, path, { ...headers, ...bearer(user) }, body)).status, 200, `${method} ${path} with a user's token`)
      }
    }).pipe(Effect.scoped))
})
