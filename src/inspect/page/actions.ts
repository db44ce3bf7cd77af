// The operator's changes from the page: release or move a room, close a
// session, drain or undrain a gateway. Each goes through the admin routes
// (the service checks the admin role), is confirmed first, and its result —
// or the service's refusal — is shown in the header.
import { send } from "./api.ts"
import type { MemberJson } from "./panels.ts"
import type { Room } from "./rooms.ts"

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

/** Asks before a change; answers whether the operator confirmed. */
export const confirmChange = (question: string, confirmLabel: string): Promise<boolean> =>
  new Promise((resolve) => {
    const dialog = byId<HTMLDialogElement>("confirm-dialog")
    byId("confirm-text").textContent = question
    byId("confirm-ok").textContent = confirmLabel
    dialog.returnValue = ""
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true })
    dialog.showModal()
  })

export const showResult = (outcome: "ok" | "error" | "pending", text: string) => {
  const el = byId("action-result")
  el.hidden = false
  el.dataset.outcome = outcome
  el.textContent = text
}

export interface Change<A> {
  /** What the confirmation asks. */
  readonly question: string
  /** The confirming button's label. */
  readonly confirm: string
  readonly method: "POST" | "PATCH" | "DELETE"
  readonly path: string
  readonly body?: unknown
  /** What happened, from the service's answer. */
  readonly done: (answer: A) => string
  /** What was refused, to start the message with. */
  readonly refused: string
}

let busy = false

/** Confirms, sends, shows the result; answers whether the change was made. */
export const change = async <A>(c: Change<A>): Promise<boolean> => {
  if (busy || !(await confirmChange(c.question, c.confirm))) return false
  busy = true
  document.body.classList.add("busy")
  showResult("pending", `${c.confirm}…`)
  try {
    const answer = await send<A>(c.method, c.path, c.body)
    if (answer.status >= 200 && answer.status < 300) {
      showResult("ok", c.done(answer.body))
      return true
    }
    showResult("error", `${c.refused}: ${answer.body.error ?? "no reason given"} (${answer.status})`)
    return false
  } catch (e) {
    showResult("error", `${c.refused}: ${e instanceof Error ? e.message : String(e)}`)
    return false
  } finally {
    busy = false
    document.body.classList.remove("busy")
  }
}

/** A room's machine after a release or a reassign, as the service answers it. */
interface AssignmentChange {
  readonly room: number | string
  readonly state: string
  readonly gateway: string | null
  readonly previous_gateway: string
}

const roomPath = (room: Room) => `/admin/assignments/${encodeURIComponent(room.id)}`

export const releaseRoom = (room: Room) =>
  change<AssignmentChange>({
    question: `Release room ${room.id} from ${room.gateway ?? "its gateway"}? The gateway is freed at once; nobody is in the room.`,
    confirm: "Release",
    method: "POST",
    path: `${roomPath(room)}/release`,
    refused: `Room ${room.id} was not released`,
    done: (a) => `Room ${a.room} released from ${a.previous_gateway}: it is ${a.state}.`
  })

/** Moves the room to `target`, or where the balancer chooses when it is "". */
export const reassignRoom = (room: Room, target: string) =>
  change<AssignmentChange>({
    question: `Move room ${room.id} from ${room.gateway ?? "its gateway"} to ${target === "" ? "a gateway the balancer chooses" : target}? ` +
      `Its ${room.sessions === 1 ? "user stays" : `${room.sessions} users stay`} on ${room.gateway ?? "it"} until they reconnect.`,
    confirm: "Reassign",
    method: "POST",
    path: `${roomPath(room)}/reassign`,
    body: target === "" ? {} : { gateway: target },
    refused: `Room ${room.id} was not moved`,
    done: (a) => `Room ${a.room} moved from ${a.previous_gateway} to ${a.gateway ?? "no gateway"}: it is ${a.state}.`
  })

export const closeSession = (room: string, session: string, name: string) =>
  change<MemberJson>({
    question: `Close ${name}'s session in room ${room}? The room hears it as a leave; a client still connected opens a new session with its next keepalive.`,
    confirm: "Close session",
    method: "DELETE",
    path: `/admin/sessions/${encodeURIComponent(session)}`,
    refused: `${name}'s session was not closed`,
    done: (m) => `Closed ${m.display ?? m.user}'s session in room ${m.room} (on ${m.gateway ?? "no gateway"}).`
  })

/** Drains (or undrains) a gateway; `rooms` is how many it hosts, when known. */
export const drainGateway = (gateway: string, draining: boolean, rooms: number | undefined) => {
  const hosted = rooms === undefined ? "its rooms" : `its ${rooms} room${rooms === 1 ? "" : "s"}`
  return change<{ name: string; draining: boolean }>({
    question: draining
      ? `Drain ${gateway}? It keeps ${hosted} and takes no new ones.`
      : `Undrain ${gateway}? The balancer may place new rooms on it again.`,
    confirm: draining ? "Drain" : "Undrain",
    method: "PATCH",
    path: `/admin/gateways/${encodeURIComponent(gateway)}`,
    body: { draining },
    refused: `${gateway} was not ${draining ? "drained" : "undrained"}`,
    done: (a) => (a.draining ? `${a.name} is draining: it keeps ${hosted} and takes no new ones.` : `${a.name} takes new rooms again.`)
  })
}
