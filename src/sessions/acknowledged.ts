// Sessions their room has acknowledged: a keepalive that changes nothing the
// room counts (same session, same room, same gateway) is not passed on to
// the room's actor again, so rooms hear membership changes, not every
// keepalive; and such a keepalive is written by session id in a batch (see
// keepaliveBatch.ts) instead of by the full upsert. Two generations rotated
// every `window`: an entry lives while keepalives keep renewing it, and one
// to two windows after the last; then the next keepalive takes the full path
// again. (The cleaner's recount repairs any room that lost count meanwhile.)
import type { SessionPlace } from "../db/sessionStore.ts"

/** What identifies a session in a keepalive: user, gateway and the gateway's session number. */
export interface SessionKey {
  readonly userId: string
  readonly gateway: string
  readonly gatewaySession: number
}

interface Generation {
  /** session id → room and gateway */
  readonly places: Map<number, string>
  /** session key → session id */
  readonly sessions: Map<string, number>
}

const generation = (): Generation => ({ places: new Map(), sessions: new Map() })

export class Acknowledged {
  private current = generation()
  private previous = generation()
  private rotatedAt: number | undefined

  constructor(private readonly window: number) {}

  private rotate(now: number) {
    if (this.rotatedAt === undefined) this.rotatedAt = now
    if (now - this.rotatedAt < this.window) return
    // more than two windows since the last rotation: both generations are stale
    this.previous = now - this.rotatedAt >= 2 * this.window ? generation() : this.current
    this.current = generation()
    this.rotatedAt = now
  }

  /** True when the room acknowledged this session in this room on this gateway within the window. */
  has(place: SessionPlace, now: number): boolean {
    this.rotate(now)
    const where = placeOf(place)
    return this.current.places.get(place.session) === where || this.previous.places.get(place.session) === where
  }

  /** The acknowledged session a keepalive names, when it is still in the same room. */
  sessionOf(key: SessionKey & { readonly room: string }, now: number): number | undefined {
    this.rotate(now)
    const k = keyOf(key)
    const session = this.current.sessions.get(k) ?? this.previous.sessions.get(k)
    return session !== undefined && this.has({ session, room: key.room, gateway: key.gateway }, now) ? session : undefined
  }

  add(place: SessionPlace, now: number, key?: SessionKey): void {
    this.rotate(now)
    this.current.places.set(place.session, placeOf(place))
    if (key !== undefined) this.current.sessions.set(keyOf(key), place.session)
  }

  remove(session: number): void {
    this.current.places.delete(session)
    this.previous.places.delete(session)
  }
}

const placeOf = (place: SessionPlace) => `${place.room}\u0000${place.gateway}`
const keyOf = (key: SessionKey) => `${key.userId}\u0000${key.gateway}\u0000${key.gatewaySession}`
