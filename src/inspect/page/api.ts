// The page's access to the service: JSON reads under /admin and the live
// stream of changes, both with the administrator's bearer token when the
// service asks for one (401). `EventSource` cannot send a header, so the
// stream is read with fetch() and parsed here; it reconnects by itself.

const tokenKey = "room-orchestrator.token"

let asking: Promise<void> | undefined

/** Shows the token dialog (once, however many requests were refused) and keeps the answer for this tab. */
const askForToken = (reason: string): Promise<void> => {
  asking ??= new Promise<void>((resolve) => {
    const dialog = document.getElementById("token-dialog") as HTMLDialogElement
    const input = document.getElementById("token") as HTMLInputElement
    document.getElementById("token-reason")!.textContent = reason
    input.value = ""
    dialog.addEventListener("close", () => {
      const token = input.value.trim()
      if (token !== "") sessionStorage.setItem(tokenKey, token)
      asking = undefined
      resolve()
    }, { once: true })
    dialog.showModal()
  })
  return asking
}

const headers = (accept: string): Record<string, string> => {
  const token = sessionStorage.getItem(tokenKey)
  return token === null ? { accept } : { accept, authorization: `Bearer ${token}` }
}

export class HttpFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

/** A fetch that asks for a token on 401 (or 403) and tries again with it. */
const authorized = async (path: string, accept: string, signal?: AbortSignal): Promise<Response> => {
  for (;;) {
    const response = await fetch(path, { headers: headers(accept), cache: "no-store", ...(signal ? { signal } : {}) })
    if (response.status !== 401 && response.status !== 403) return response
    const refused = sessionStorage.getItem(tokenKey) !== null
    sessionStorage.removeItem(tokenKey)
    await askForToken(
      response.status === 403
        ? "That token lacks the administrator role. Enter an administrator's token."
        : refused
        ? "That token was refused. Enter an administrator's token."
        : "This page needs an administrator's token."
    )
  }
}

export const getJson = async <A>(path: string): Promise<A> => {
  const response = await authorized(path, "application/json")
  const body = await response.json() as A & { error?: string }
  if (!response.ok) throw new HttpFailure(response.status, body.error ?? `${response.status} from ${path}`)
  return body
}

export type StreamStatus = "connecting" | "live" | "reconnecting"

export interface StreamHandlers {
  /** The stream is subscribed (or missed changes): (re)load everything now; changes after this point will arrive. */
  readonly ready: () => Promise<void>
  readonly event: (name: string, data: unknown) => void
  readonly status: (status: StreamStatus, detail?: string) => void
}

/** Silence longer than this (heartbeats come every 15 s) means the connection is dead. */
const silenceLimit = 40_000
const firstRetry = 500
const maxRetry = 10_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Splits Server-Sent Events text into events; answers the unfinished rest. */
export const parseEvents = (text: string, emit: (name: string, data: string) => void): string => {
  let rest = text
  for (let end = rest.indexOf("\n\n"); end !== -1; end = rest.indexOf("\n\n")) {
    const block = rest.slice(0, end)
    rest = rest.slice(end + 2)
    let name = "message"
    const data: Array<string> = []
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue
      const colon = line.indexOf(":")
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
      if (field === "event") name = value
      else if (field === "data") data.push(value)
    }
    if (data.length > 0) emit(name, data.join("\n"))
  }
  return rest
}

/** Reads the change stream for ever, reconnecting with backoff. */
export const followChanges = async (path: string, on: StreamHandlers): Promise<never> => {
  let retry = firstRetry
  for (;;) {
    const abort = new AbortController()
    let watchdog = setTimeout(() => abort.abort(), silenceLimit)
    try {
      const response = await authorized(path, "text/event-stream", abort.signal)
      if (!response.ok || response.body === null) throw new HttpFailure(response.status, `the change stream answered ${response.status}`)
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ""
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        clearTimeout(watchdog)
        watchdog = setTimeout(() => abort.abort(), silenceLimit)
        const events: Array<[string, string]> = []
        buffer = parseEvents(buffer + value, (name, data) => events.push([name, data]))
        for (const [name, data] of events) {
          // Loading waits before reading on, so changes behind it apply after it, in order.
          if (name === "ready" || name === "reset") {
            await on.ready()
            on.status("live")
            retry = firstRetry
          } else {
            on.event(name, JSON.parse(data))
          }
        }
      }
      on.status("reconnecting", "the stream ended")
    } catch (e) {
      on.status("reconnecting", e instanceof Error ? e.message : String(e))
    } finally {
      clearTimeout(watchdog)
      abort.abort()
    }
    await sleep(retry)
    retry = Math.min(retry * 2, maxRetry)
  }
}
