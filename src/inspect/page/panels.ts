// The smaller panels: rooms per state, the gateways and their load, and the
// selected room's facts and history.
import { escapeHtml } from "./list.ts"
import { clock, countdown, type Room, type Transition } from "./rooms.ts"

export interface GatewayJson {
  readonly name: string
  readonly region: string | null
  readonly capacity: number
  readonly load: number
  readonly rooms: number
  readonly enabled: boolean
  readonly draining: boolean
  readonly online: boolean | null
  readonly available: boolean
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

const flag = (on: boolean, text: string, kind: string) => (on ? `<span class="flag ${kind}">${text}</span>` : "")

export const renderGateways = (host: HTMLElement, gateways: ReadonlyArray<GatewayJson>) => {
  const rows = gateways.map((g) => {
    const ratio = g.capacity > 0 ? g.load / g.capacity : 0
    const online = g.online === null ? `<span class="flag unknown">status unknown</span>` : g.online ? `<span class="flag online">online</span>` : `<span class="flag offline">offline</span>`
    return `<tr data-gateway="${escapeHtml(g.name)}"${g.available && g.enabled ? "" : ` class="unused"`}>` +
      `<td class="g-name">${escapeHtml(g.name)}</td>` +
      `<td class="g-region">${escapeHtml(g.region ?? "")}</td>` +
      `<td class="g-load"><meter min="0" max="${g.capacity}" low="${g.capacity * 0.7}" high="${g.capacity * 0.9}" optimum="0" value="${g.load}"></meter> ` +
      `<span class="load">${g.load}</span> / <span class="capacity">${g.capacity}</span> <small>(${Math.round(ratio * 100)}%)</small></td>` +
      `<td class="g-rooms">${g.rooms}</td>` +
      `<td class="g-flags">${online}${flag(g.draining, "draining", "draining")}${flag(!g.enabled, "disabled", "disabled")}${flag(!g.available, "not in AVAILABLE_JANUS_SERVERS", "unused")}</td>` +
      `</tr>`
  })
  host.innerHTML = `<table><thead><tr><th>gateway</th><th>region</th><th>load / capacity</th><th>rooms</th><th>status</th></tr></thead><tbody>${rows.join("")}</tbody></table>`
}

export const renderFacts = (host: HTMLElement, room: Room | undefined, now: number) => {
  if (room === undefined) {
    host.innerHTML = ""
    return
  }
  const fact = (name: string, value: string, cls = "") => `<dt>${name}</dt><dd class="${cls}">${value}</dd>`
  host.innerHTML = [
    fact("state", `<b class="badge s-${escapeHtml(room.state)}">${escapeHtml(room.state)}</b>`, "f-state"),
    fact("gateway", escapeHtml(room.gateway ?? "none"), "f-gateway"),
    fact("region", escapeHtml(room.region ?? "none"), "f-region"),
    fact("sessions", String(room.sessions), "f-sessions"),
    fact("deadline", room.deadline === null ? "none" : `${countdown(room.deadline, now)} <small>(${clock(room.deadline, now)})</small>`, "f-deadline"),
    fact("last", room.last === null ? "none" : `${escapeHtml(room.last.from)} → ${escapeHtml(room.last.to)} on <b>${escapeHtml(room.last.event)}</b>`, "f-last")
  ].join("")
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
