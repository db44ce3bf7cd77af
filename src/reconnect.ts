// How every client of a dependency (the database, the broker) tries again
// after losing it: the first retry within 250 ms, then doubling, never more
// than 2 s apart, so a dependency back after an outage of any length is
// rejoined within 2 s of its return.
import { Schedule } from "effect"

export const firstRetryMillis = 250
export const maxRetryMillis = 2_000

/** The delays 250 ms, 500 ms, 1 s, 2 s, 2 s, … */
export const reconnectSchedule = Schedule.min([Schedule.exponential(`${firstRetryMillis} millis`), Schedule.spaced(`${maxRetryMillis} millis`)])

/** The delay before retry number `attempt` (1 for the first), as `reconnectSchedule` spaces them. */
export const reconnectDelay = (attempt: number) => Math.min(firstRetryMillis * 2 ** Math.max(0, attempt - 1), maxRetryMillis)
