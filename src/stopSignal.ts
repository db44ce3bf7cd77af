// SIGTERM and SIGINT, heard from the first moment of the process: imported
// first by the entry point, so a signal that arrives while modules load or
// layers build is never lost (a listener installed by a library would
// otherwise swallow Node's default exit), and the service stops as soon as
// it can. Once signalled, the process exits at the latest `stopDeadline`
// later, whatever is still open: a stop that hangs must not leave a process
// that serves nothing and holds its port.

/** How long a stop may take before the process exits anyway. */
export const stopDeadlineMillis = 20_000

let received: string | undefined
const waiting: Array<(signal: string) => void> = []

const onSignal = (signal: string) => () => {
  if (received !== undefined) return
  received = signal
  setTimeout(() => {
    console.error(`Did not stop within ${stopDeadlineMillis / 1000}s of ${signal}; exiting`)
    process.exit(1)
  }, stopDeadlineMillis).unref()
  for (const resolve of waiting.splice(0)) resolve(signal)
}

process.on("SIGTERM", onSignal("SIGTERM"))
process.on("SIGINT", onSignal("SIGINT"))

/** Resolves with the signal's name once the process is asked to stop (at once if it was already). */
export const stopRequested = (): Promise<string> =>
  received !== undefined ? Promise.resolve(received) : new Promise((resolve) => waiting.push(resolve))

/** The signal received, if any. */
export const signalReceived = (): string | undefined => received
