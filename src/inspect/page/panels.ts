// The smaller panels: rooms per state, the gateways and their load, and the
// selected room's facts, members and history.
import type { gatewayLoadView } from "../../gateways/loads.ts"
import { ago, escapeHtml } from "./list.ts"
import { clock, type Room, timerText, type Transition } from "./rooms.ts"

/** A row of GET /admin/gateway-loads: the service's view of a gateway, without whether it is registered. */
export type GatewayJson = ReturnType<typeof gatewayLoadView>

/** A row of GET /admin/sessions. */
export interface MemberJson {
  readonly id: number
  readonly user: string
  readonly room: number | string
  readonly gateway: string | null
  readonly display: string | null
  readonly country: string | null
  readonly camera: boolean
  readonly mic: boolean
  readonly screen: boolean
  readonly question: boolean
  readonly joined: string
  readonly keepalive: string
}

/** One chip per state (the definition's first, in its order), each a filter. */
export const renderCounts = (host: HTMLElement, states: ReadonlyArray<string>, counts: Map<string, number>, active: string) => {
  const all = [...states, ...[...counts.keys()].filter((s) => !states.includes(s))]
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  host.innerHTML = [`<button type="button" class="chip${active === "" ? " active" : ""}" data-state="">all <b>${total}</b></button>`]
    .concat(all.map((s) =>
      `<button type="button" class="chip s-${escapeHtml(s)}${active === s ? " active" : ""}" data-state="${escapeHtml(s)}">${escapeHtml(s)} <b data-count="${escapeHtml(s)}">${counts.get(s) ?? 0}</b></button>`
    ))
    .join("")
}

const drawn = new WeakMap<HTMLElement, string>()
/** Replaces the host's content only when it changed: buttons under the pointer stay the same elements. */
const draw = (host: HTMLElement, html: string) => {
  if (drawn.get(host) === html) return
  drawn.set(host, html)
  host.innerHTML = html
}

const flag = (on: boolean, text: string, kind: string) => (on ? `<span class="flag ${kind}">${text}</span>` : "")

/** Every gateway: load against capacity, rooms, users, status, and the drain switch. */
export const renderGateways = (host: HTMLElement, gateways: ReadonlyArray<GatewayJson>) => {
  const rows = gateways.map((g) => {
    const ratio = g.capacity > 0 ? g.load / g.capacity : 0
    const online = g.online === null ? `<span class="flag unknown">status unknown</span>` : g.online ? `<span class="flag online">online</span>` : `<span class="flag offline">offline</span>`
    const name = escapeHtml(g.name)
    return `<tr data-gateway="${name}"${g.available && g.enabled ? "" : ` class="unused"`}>` +
      `<td class="g-name">${name}</td>` +
      `<td class="g-region">${escapeHtml(g.region ?? "")}</td>` +
      `<td class="g-load"><meter min="0" max="${g.capacity}" low="${g.capacity * 0.7}" high="${g.capacity * 0.9}" optimum="0" value="${g.load}"></meter> ` +
      `<span class="load">${g.load}</span> / <span class="capacity">${g.capacity}</span> <small>(${Math.round(ratio * 100)}%)</small>` +
      (g.reserved > 0 ? ` <small class="reserved" title="reserved for users expected but not yet there; real load ${g.load - g.reserved}">${g.reserved} reserved</small>` : "") +
      `</td>` +
      `<td class="g-rooms">${g.rooms}</td>` +
      `<td class="g-users">${g.users}</td>` +
      `<td class="g-flags">${online}${flag(g.draining, "draining", "draining")}${flag(!g.enabled, "disabled", "disabled")}${flag(!g.available, "not in AVAILABLE_JANUS_SERVERS", "unused")}</td>` +
      `<td class="g-act"><button type="button" class="act g-drain" data-gateway="${name}" data-draining="${g.draining}">${g.draining ? "Undrain…" : "Drain…"}</button></td>` +
      `</tr>`
  })
  draw(host, `<table><thead><tr><th>gateway</th><th>region</th><th>load / capacity</th><th>rooms</th><th>users</th><th>status</th><th></th></tr></thead><tbody>${rows.join("")}</tbody></table>`)
}

export const renderFacts = (host: HTMLElement, room: Room | undefined, now: number) => {
  if (room === undefined) {
    host.innerHTML = ""
    return
  }
  const fact = (name: string, value: string, cls = "") => `<dt>${name}</dt><dd class="${cls}">${value}</dd>`
  const timer = room.timer
  host.innerHTML = [
    fact("state", `<b class="badge s-${escapeHtml(room.state)}">${escapeHtml(room.state)}</b>`, "f-state"),
    fact("gateway", escapeHtml(room.gateway ?? "none"), "f-gateway"),
    fact("region", escapeHtml(room.region ?? "none"), "f-region"),
    fact("sessions", String(room.sessions), "f-sessions"),
    fact(
      "timer",
      timer === null ? "none" : `${escapeHtml(timerText(timer, now))} <small>(${escapeHtml(timer.event)}, ${clock(timer.at, now)})</small>`,
      `f-timer${timer?.releases ? " releases" : ""}`
    ),
    fact("last", room.last === null ? "none" : `${escapeHtml(room.last.from)} → ${escapeHtml(room.last.to)} on <b>${escapeHtml(room.last.event)}</b>`, "f-last")
  ].join("")
}

const memberFlags = (m: MemberJson) =>
  (["camera", "mic", "screen", "question"] as const)
    .map((f) => `<span class="mflag ${m[f] ? "on" : "off"}" title="${f} ${m[f] ? "on" : "off"}">${f}</span>`)
    .join("")

/** The selected room's members: who, on which gateway, their flags, last keepalive; each can be closed. */
export const renderMembers = (body: HTMLElement, empty: HTMLElement, members: ReadonlyArray<MemberJson> | undefined) => {
  empty.hidden = members !== undefined && members.length > 0
  if (members !== undefined && members.length === 0) empty.textContent = "Nobody is in this room."
  draw(body, (members ?? []).map((m) => {
    const name = m.display === null || m.display === "" ? m.user : m.display
    const keepalive = Date.parse(m.keepalive)
    return `<tr data-session="${m.id}">` +
      `<td class="m-user" title="user ${escapeHtml(m.user)}, session ${m.id}">${escapeHtml(name)}${name === m.user ? "" : ` <small>${escapeHtml(m.user)}</small>`}</td>` +
      `<td class="m-gateway">${escapeHtml(m.gateway ?? "")}</td>` +
      `<td class="m-flags">${memberFlags(m)}</td>` +
      `<td class="m-country">${escapeHtml(m.country ?? "")}</td>` +
      `<td class="m-keepalive" title="${escapeHtml(m.keepalive)}" data-at="${keepalive}"></td>` +
      `<td class="m-act"><button type="button" class="act m-close" data-session="${m.id}" data-name="${escapeHtml(name)}">Close…</button></td>` +
      `</tr>`
  }).join(""))
}

/** Ages the members' last keepalives in place ("4 s ago"). */
export const ageMembers = (body: HTMLElement, now: number) => {
  for (const cell of body.querySelectorAll<HTMLElement>(".m-keepalive")) {
    const text = ago(Number(cell.dataset.at), now)
    if (cell.textContent !== text) cell.textContent = text
  }
}

export const renderHistory = (body: HTMLElement, empty: HTMLElement, history: ReadonlyArray<Transition> | undefined, now: number) => {
  empty.hidden = history !== undefined && history.length > 0
  if (history !== undefined && history.length === 0) empty.textContent = "No transitions yet."
  body.innerHTML = (history ?? []).map((t) => {
    const at = Date.parse(t.at)
    return `<tr data-seq="${t.seq}"><td class="h-at" title="${escapeHtml(t.at)}">${clock(at, now)}<small>.${String(new Date(at).getMilliseconds()).padStart(3, "0")}</small></td>` +
      `<td class="h-from">${escapeHtml(t.from)}</td><td class="h-event">${escapeHtml(t.event)}</td>` +
      `<td class="h-to">${escapeHtml(t.to)}</td><td class="h-gateway">${escapeHtml(t.gateway ?? "")}</td></tr>`
  }).join("")
}
