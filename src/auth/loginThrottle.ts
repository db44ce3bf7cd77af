// Failed logins with Basic credentials (a gateway's events password, the
// service user's password), counted per source address and user name over
// the last minute: once a pair has spent its budget its next attempts are
// refused at once (429) without checking the password, so guessing costs
// the guesser, not the service (a bcrypt check is ~0.2 s of CPU). Keyed by
// the user name too, so a guesser behind a shared proxy locks out that one
// name, not every gateway behind the proxy.

const windowMillis = 60_000
/** Pairs remembered at most: a flood of names cannot grow this without bound. */
const maxKeys = 10_000

export class LoginThrottle {
  private readonly failures = new Map<string, Array<number>>()

  constructor(private readonly perMinute: number) {}

  private recent(key: string, now: number): Array<number> {
    const times = (this.failures.get(key) ?? []).filter((t) => now - t < windowMillis)
    if (times.length === 0) this.failures.delete(key)
    else this.failures.set(key, times)
    return times
  }

  /** Milliseconds until the pair may try again; 0 when it may now. */
  retryAfter(source: string, user: string, now: number): number {
    const times = this.recent(`${source} ${user}`, now)
    return times.length < this.perMinute ? 0 : windowMillis - (now - times[0]!)
  }

  /** One more failure of the pair; answers how many it has within the minute. */
  failed(source: string, user: string, now: number): number {
    const key = `${source} ${user}`
    const times = this.recent(key, now)
    times.push(now)
    this.failures.set(key, times)
    if (this.failures.size > maxKeys) {
      for (const [k, t] of this.failures) if (now - t.at(-1)! >= windowMillis || this.failures.size > maxKeys) this.failures.delete(k)
    }
    return times.length
  }
}
