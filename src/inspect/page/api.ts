// The page's access to the service: JSON reads and changes under /admin and
// the live stream of changes, all with the administrator's bearer token
// when the service asks for one (401): from a login at the identity
// provider (login.ts) or pasted. `EventSource` cannot send a header, so the
// stream is read with fetch() and parsed here; it reconnects by itself.
import { finishLogin, forget, fresh, loginConfig, refresh, signedIn, startLogin, tokenKey } from "./login.ts"

const login = loginConfig()

let asking: Promise<void> | undefined

/**
 * Asks the operator to log in (once, however many requests were refused):
 * at the identity provider when one is configured, or by pasting a bearer
 * token, kept for this tab.
 */
const askForLogin = (reason: string): Promise<void> => {
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

/** Shows a login problem (a refused login, an unreachable provider) in the dialog. */
export const loginProblem = (problem: string) => {
  const el = document.getElementById("login-problem")!
  el.textContent = problem
  el.hidden = false
}

/** The dialog's login button: off to the identity provider. */
export const setUpLogin = () => {
  const oidc = document.getElementById("oidc-login")!
  if (login.kind !== "oidc") return
  oidc.hidden = false
  document.getElementById("login-issuer")!.textContent = new URL(login.issuer).host
  document.getElementById("token-or")!.hidden = false
  document.getElementById("login-button")!.addEventListener("click", () => {
    startLogin(login).catch((e: unknown) => loginProblem(e instanceof Error ? e.message : String(e)))
  })
}

export { finishLogin, forget, login, signedIn }

const headers = (accept: string): Record<string, string> => {
  const token = sessionStorage.getItem(tokenKey)
  return token === null ? { accept } : { accept, authorization: `Bearer ${token}` }
}

export class HttpFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

/** A fetch that logs in on 401 (or 403) and tries again. */
const authorized = async (path: string, init: RequestInit & { accept: string }): Promise<Response> => {
  let refreshed = false
  for (;;) {
    await fresh(login)
    const { accept, ...rest } = init
    const response = await fetch(path, { ...rest, headers: { ...headers(accept), ...(rest.headers as Record<string, string> | undefined) }, cache: "no-store" })
    if (response.status !== 401 && response.status !== 403) return response
    // An expired access token: a refreshed one, without asking.
    if (response.status === 401 && !refreshed && await refresh(login)) {
      refreshed = true
      continue
    }
    const refused = sessionStorage.getItem(tokenKey) !== null
    forget()
    const oidc = login.kind === "oidc"
    await askForLogin(
      response.status === 403
        ? oidc
          ? "Your account lacks the administrator role (gxy_admin or gxy_root). Log in as an administrator."
          : "That token lacks the administrator role. Enter an administrator's token."
        : refused
        ? oidc ? "Your login was refused or has expired. Log in again." : "That token was refused. Enter an administrator's token."
        : oidc
        ? "This page needs an administrator's login."
        : "This page needs an administrator's token."
    )
  }
}

export const getJson = async <A>(path: string): Promise<A> => {
  const response = await authorized(path, { accept: "application/json" })
  const body = await response.json() as A & { error?: string }
  if (!response.ok) throw new HttpFailure(response.status, body.error ?? `${response.status} from ${path}`)
  return body
}

/** A change through an admin route: answers its status and JSON body, whatever the status. */
export const send = async <A>(method: string, path: string, body?: unknown): Promise<{ status: number; body: A & { error?: string } }> => {
  const response = await authorized(path, {
    accept: "application/json",
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  })
  const text = await response.text()
  let parsed: unknown = {}
  try {
    parsed = text === "" ? {} : JSON.parse(text)
  } catch {
    parsed = { error: text }
  }
  return { status: response.status, body: parsed as A & { error?: string } }
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
      const response = await authorized(path, { accept: "text/event-stream", signal: abort.signal })
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
