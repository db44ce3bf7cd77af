// Passwords of machine clients: the service user's (SERVICE_PASSWORD) and
// each gateway's events password, stored as a bcrypt hash (the form
// gxydb-api stores, so its hashes work unchanged).
import bcrypt from "bcryptjs"
import { Context, Effect, Layer } from "effect"
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { AppConfig } from "../config.ts"
import { GatewayStore } from "../db/gatewayStore.ts"
import type { DatabaseUnavailable } from "../domain/errors.ts"

const cost = 10

/** The bcrypt hash of a new events password. */
export const hashPassword = (password: string) => Effect.promise(() => bcrypt.hash(password, cost))

const digest = (text: string) => createHash("sha256").update(text).digest()

/** Compares in constant time, whatever the lengths. */
export const samePassword = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected))

export class Passwords extends Context.Service<Passwords, {
  /** True when `password` is the events password of the gateway `name`. */
  readonly verify: (name: string, password: string) => Effect.Effect<boolean, DatabaseUnavailable>
  /** True when `password` is SERVICE_PASSWORD (always false when it is unset). */
  readonly isServicePassword: (password: string) => boolean
}>()("room-orchestrator/Passwords") {
  static readonly layer = Layer.effect(Passwords, Effect.gen(function*() {
    const config = yield* AppConfig
    const store = yield* GatewayStore
    // A bcrypt check costs ~100 ms of CPU and a gateway posts every event:
    // a password once verified is remembered (as a keyed digest, never in
    // clear) for as long as the stored hash stays the same.
    const key = randomBytes(32)
    const keyed = (password: string) => createHmac("sha256", key).update(password).digest()
    const verified = new Map<string, { readonly hash: string; readonly digest: Buffer }>()

    const verify = (name: string, password: string) =>
      Effect.gen(function*() {
        const hash = yield* store.eventsPasswordHash(name)
        if (hash === undefined || hash === null) return false
        const given = keyed(password)
        const known = verified.get(name)
        if (known !== undefined && known.hash === hash && timingSafeEqual(known.digest, given)) return true
        const ok = yield* Effect.promise(() => bcrypt.compare(password, hash).catch(() => false))
        if (ok) verified.set(name, { hash, digest: given })
        return ok
      })

    const service = config.servicePassword
    return {
      verify,
      isServicePassword: (password) => service !== undefined && samePassword(password, service)
    }
  }))
}
