// Sessions their room has acknowledged: a keepalive that changes nothing the
// room counts (same session, same room, same gateway) is not passed on to
// the room's actor again, so rooms hear membership changes, not every
// keepalive; and such a keepalive is written by session id in a batch (see
// keepaliveBatch.ts) instead of by the full upsert. Two generations rotated
// every `window`: an entry lives while keepalives keep renewing it, and one
// to two windows after the last; then the next keepalive takes the full path
// again. A room that leaves `assigned` (a failover that found no gateway, a
// drain) forgets its sessions at once: its machine needs their next
// keepalives. (The cleaner's recount repairs any room that lost count.)
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
  /** How many times each room forgot its sessions: an entry holds the count of its time. */
  private readonly epochs = new Map<string, number>()

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
    const where = this.placeOf(place)
    return this.current.places.get(place.session) === where || this.previous.places.get(place.session) === where
  }

  /** The acknowledged session a keepalive names, when it is still in the same room. */
  sessionOf(key: SessionKey & { readonly room: string }, now: number): number | undefined {
    this.rotate(now)
    const k = keyOf(key)
    const session = this.current.sessions.get(k) ?? this.previous.sessions.get(k)
    return session !== undefined && this.has({ session, room: key.room, gateway: key.gateway }, now) ? session : undefined
  }

  /** How many times the room forgot its sessions: read it before asking the room, give it to `add`. */
  epochOf(room: string): number {
    return this.epochs.get(room) ?? 0
  }

  /**
   * The room counts this session (as of `epoch`, read before asking it):
   * an acknowledgement the room forgot meanwhile is not recorded.
   */
  add(place: SessionPlace, now: number, key: SessionKey | undefined, epoch: number): void {
    this.rotate(now)
    if (epoch !== this.epochOf(place.room)) return
    this.current.places.set(place.session, this.placeOf(place))
    if (key !== undefined) this.current.sessions.set(keyOf(key), place.session)
  }

  remove(session: number): void {
    this.current.places.delete(session)
    this.previous.places.delete(session)
  }

  /** Every session of this room goes the full way again. */
  forgetRoom(room: string): void {
    this.epochs.set(room, (this.epochs.get(room) ?? 0) + 1)
  }

  /** Every session goes the full way again. */
  forgetAll(): void {
    this.current = generation()
    this.previous = generation()
  }

  private placeOf(place: SessionPlace) {
    return `${place.room}\u0000${place.gateway}\u0000${this.epochOf(place.room)}`
  }
}

const keyOf = (key: SessionKey) => `${key.userId}\u0000${key.gateway}\u0000${key.gatewaySession}`
