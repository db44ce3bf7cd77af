// The real-time channel with authentication on: the same bearer tokens as
// the HTTP API, in the handshake (auth.token) or in joinRoom; the token's
// subject is the user. Refusals are `{error}` acks (or a refused handshake)
// and store nothing.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ask, connect } from "../support/channel.ts"
import { backend } from "../support/database.ts"
import { bearer, send, signHs256 } from "../support/identity.ts"
import { collectLogs, serviceOnFreshDatabase } from "../support/service.ts"

const secret = "realtime-secret-of-at-least-32-bytes!"

describe(`real-time channel with authentication (${backend})`, () => {
  it.live("tokens in joinRoom or the handshake; the token's subject is the user; bad, expired or role-less tokens are refused", () =>
    Effect.gen(function*() {
      const logs = collectLogs()
      const { base, sql } = yield* serviceOnFreshDatabase({ AUTH_JWT_SECRET: secret, SCALE: "true" }, logs.logger)
      const http = send(base)
      const alice = yield* signHs256(secret, { roles: ["gxy_user"], sub: "alice-sub" })
      const noRole = yield* signHs256(secret, { roles: ["offline_access"], sub: "eve" })
      const expired = yield* signHs256(secret, { roles: ["gxy_user"], sub: "alice-sub", expiresIn: -60 })
      const forged = yield* signHs256("another-secret-of-at-least-32-bytes!!", { roles: ["gxy_user"], sub: "alice-sub" })

      // HTTP: the rooms routes are client routes
      assert.strictEqual((yield* http("POST", "/api/rooms/create", {}, { name: "Private" })).status, 401)
      assert.strictEqual((yield* http("POST", "/api/rooms/create", bearer(noRole), { name: "Private" })).status, 403)
      const created = yield* http("POST", "/api/rooms/create", bearer(alice), { name: "Private" })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      const roomId = created.body.room.id
      assert.strictEqual((yield* http("GET", `/api/rooms/${roomId}`, {})).status, 401)

      const anonymous = yield* connect(base)
      const refusals: ReadonlyArray<readonly [Effect.Effect<any>, RegExp]> = [
        [ask(anonymous, "getUsersInRoom", { roomId }), /^token: is required \(connect with auth.token, or join a room first\)$/],
        [ask(anonymous, "createRoom", { roomId }), /^token: is required/],
        [ask(anonymous, "joinRoom", { roomId }), /^token: is required \(send it in joinRoom, or as the handshake's auth.token\)$/],
        [ask(anonymous, "joinRoom", { roomId, token: "demo-token" }), /^token: invalid token/],
        [ask(anonymous, "joinRoom", { roomId, token: expired }), /^token: invalid token: expired$/],
        [ask(anonymous, "joinRoom", { roomId, token: forged }), /^token: invalid token/],
        [ask(anonymous, "joinRoom", { roomId, token: noRole }), /^forbidden: this route needs a gxy_\* role$/],
        [ask(anonymous, "joinRoom", { roomId, token: alice, userId: "bob" }), /^userId: does not match the token's subject$/]
      ]
      for (const [attempt, expected] of refusals) assert.match((yield* attempt).error, expected)
      assert.lengthOf(yield* sql(`SELECT 1 FROM sessions`), 0)
      assert.lengthOf(yield* sql(`SELECT 1 FROM users`), 0)

      // a token in joinRoom names the user and opens the connection's other events
      const joined = yield* ask(anonymous, "joinRoom", { roomId, token: alice })
      assert.deepInclude(joined.user, { userId: "alice-sub", display: "alice-sub" })
      assert.deepStrictEqual((yield* ask(anonymous, "getUsersInRoom", { roomId })).users, [joined.user])

      // a bad token in the handshake refuses the connection, naming why
      const refused = yield* Effect.flip(connect(base, { auth: { token: expired } }))
      assert.strictEqual(refused.message, "token: invalid token: expired")
      assert.deepStrictEqual(refused.data, { error: "token: invalid token: expired" })
      // a good one opens every event; joinRoom then needs no token
      const carol = yield* signHs256(secret, { roles: ["gxy_viewer"], sub: "carol" })
      const handshaken = yield* connect(base, { auth: { token: carol } })
      assert.lengthOf((yield* ask(handshaken, "getUsersInRoom", { roomId })).users, 1)
      const carolJoined = yield* ask(handshaken, "joinRoom", { roomId, display: "Carol" })
      assert.deepInclude(carolJoined.user, { userId: "carol", display: "Carol" })
      assert.deepStrictEqual(
        (yield* sql<{ account_id: string }>(`SELECT account_id FROM users ORDER BY account_id`)).map((r) => r.account_id),
        ["alice-sub", "carol"]
      )
      // one authenticator serves the routes and the channel
      assert.lengthOf(logs.lines.filter((l) => l.includes("Authentication is on")), 1)
      // tokens never reach the logs
      assert.isFalse(logs.lines.some((l) => l.includes(alice) || l.includes(expired) || l.includes(carol)))
    }).pipe(Effect.scoped))

  it.live("with authentication off a token must still be present; it names the user unless userId does", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase({ AUTH: "none" })
      const socket = yield* connect(base)
      assert.match((yield* ask(socket, "joinRoom", { roomId: "2171", userId: "alice" })).error, /^token: is required/)
      const named = yield* ask(socket, "joinRoom", { roomId: "2171", token: "demo-token" })
      assert.strictEqual(named.user.userId, "demo-token")
      yield* ask(socket, "leaveRoom")
      const chosen = yield* ask(socket, "joinRoom", { roomId: "2171", token: "demo-token", userId: "user123" })
      assert.strictEqual(chosen.user.userId, "user123")
      // the handshake may carry both
      const other = yield* connect(base, { auth: { token: "demo-token", userId: "dana" } })
      assert.strictEqual((yield* ask(other, "joinRoom", { roomId: "2171" })).user.userId, "dana")
    }).pipe(Effect.scoped))
})
