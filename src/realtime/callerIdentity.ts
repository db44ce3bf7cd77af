// Who is on the other end of a real-time connection: the same bearer tokens
// as the HTTP API (a gxy_* role; the token's subject is the user). With
// authentication off a token must still be present, and it names the user
// unless `userId` does (seed 003's clients send "demo-token" and a user id).
import { Context, Effect, Layer, Result, Schema } from "effect"
import { Authenticator } from "../auth/authenticator.ts"
import { missingRole, permits } from "../auth/principal.ts"
import { ChannelRefusal, UserIdText } from "./socketEvents.ts"

const decodeUserId = Schema.decodeUnknownResult(UserIdText)

export class CallerIdentity extends Context.Service<CallerIdentity, {
  /**
   * The user a token names, or why it names none. `userId`, when given, must
   * be the token's subject (authentication on) or is the user (off).
   */
  readonly identify: (token: string | undefined, userId?: string) => Effect.Effect<string, ChannelRefusal>
  /** Whether a token is needed to read rooms (authentication on). */
  readonly required: boolean
}>()("room-orchestrator/CallerIdentity") {
  static readonly layer = Layer.effect(CallerIdentity, Effect.gen(function*() {
    const authenticator = yield* Authenticator
    const refuse = (message: string) => Effect.fail(new ChannelRefusal({ message }))
    const missing = "token: is required (send it in joinRoom, or as the handshake's auth.token)"

    const open = (token: string, userId: string | undefined) => {
      if (userId !== undefined) return Effect.succeed(userId)
      const named = decodeUserId(token)
      return Result.isSuccess(named) ? Effect.succeed(named.success) : refuse("userId: is required when the token cannot name the user")
    }

    const verified = (token: string, userId: string | undefined) =>
      authenticator.verifyBearer(token).pipe(
        Effect.mapError((e) => new ChannelRefusal({ message: e._tag === "InvalidToken" ? `token: ${e.message}` : e.message })),
        Effect.flatMap((principal) => {
          if (!permits(principal, "client")) return refuse(missingRole("client"))
          if (principal.kind !== "user" || principal.subject === "(no sub)") return refuse("token: names no user (no sub claim)")
          if (Result.isFailure(decodeUserId(principal.subject))) return refuse("token: its subject cannot be a user id (1 to 200 characters, no NUL)")
          if (userId !== undefined && userId !== principal.subject) return refuse("userId: does not match the token's subject")
          return Effect.succeed(principal.subject)
        })
      )

    return {
      identify: (token, userId) =>
        token === undefined || token === "" ? refuse(missing) : authenticator.mode === "on" ? verified(token, userId) : open(token, userId),
      required: authenticator.mode === "on"
    }
  }))
}
