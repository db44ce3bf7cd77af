// The rooms list, virtualised: only the rows in view (and a few around them)
// exist in the document, so 10,000 rooms scroll and update smoothly.
import { type Room, type RoomTable, timerText } from "./rooms.ts"

export const rowHeight = 28
const overscan = 8
/** A row that changed this recently is flashed. */
const flashFor = 1500

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)

export const ago = (at: number | null, now: number) => {
  if (at === null) return ""
  const s = Math.max(0, Math.round((now - at) / 1000))
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : s < 86_400 ? `${Math.floor(s / 3600)} h ago` : `${Math.floor(s / 86_400)} d ago`
}

export class RoomList {
  private shown: Array<string> = []
  private pending = false

  constructor(
    private readonly table: RoomTable,
    private readonly viewport: HTMLElement,
    private readonly spacer: HTMLElement,
    private readonly now: () => number,
    private readonly selected: () => string | null,
    select: (id: string) => void
  ) {
    viewport.addEventListener("scroll", () => this.schedule())
    viewport.addEventListener("click", (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>(".row[data-room]")
      if (row !== null) select(row.dataset.room!)
    })
    viewport.addEventListener("keydown", (e) => {
      if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return
      e.preventDefault()
      const at = this.shown.indexOf(this.selected() ?? "")
      const next = this.shown[Math.max(0, Math.min(this.shown.length - 1, at + (e.key === "ArrowDown" ? 1 : -1)))]
      if (next !== undefined) {
        select(next)
        this.reveal(next)
      }
    })
    new ResizeObserver(() => this.schedule()).observe(viewport)
  }

  /** The ids the filters let through, in order; drawn at once (callers run in an animation frame). */
  setShown(ids: Array<string>) {
    this.shown = ids
    this.spacer.style.height = `${ids.length * rowHeight}px`
    this.render()
  }

  toTop() {
    this.viewport.scrollTop = 0
  }

  reveal(id: string) {
    const at = this.shown.indexOf(id)
    if (at === -1) return
    const top = at * rowHeight
    if (top < this.viewport.scrollTop || top + rowHeight > this.viewport.scrollTop + this.viewport.clientHeight) {
      this.viewport.scrollTop = Math.max(0, top - this.viewport.clientHeight / 2)
    }
  }

  /** Renders on the next frame (many changes in one frame render once). */
  schedule() {
    if (this.pending) return
    this.pending = true
    requestAnimationFrame(() => {
      this.pending = false
      this.render()
    })
  }

  private row(r: Room, index: number, now: number) {
    const classes = ["row", r.id === this.selected() ? "selected" : "", now - r.changedAt < flashFor ? "flash" : "", r.disabled ? "disabled" : ""]
    const last = r.last === null ? "" : `${r.last.from} → ${r.last.to}: ${r.last.event}`
    return `<div class="${classes.join(" ").trim()}" role="row" data-room="${escapeHtml(r.id)}" data-state="${escapeHtml(r.state)}" style="top:${index * rowHeight}px">` +
      `<span class="c-room">${escapeHtml(r.id)}</span>` +
      `<span class="c-name" title="${escapeHtml(r.name)}">${escapeHtml(r.name)}</span>` +
      `<span class="c-state"><b class="badge s-${escapeHtml(r.state)}">${escapeHtml(r.state)}</b></span>` +
      `<span class="c-gateway">${escapeHtml(r.gateway ?? "")}</span>` +
      `<span class="c-region">${escapeHtml(r.region ?? "")}</span>` +
      `<span class="c-sessions">${r.sessions}</span>` +
      (r.timer === null
        ? `<span class="c-timer"></span>`
        : `<span class="c-timer${r.timer.releases ? " releases" : ""}" title="${escapeHtml(`${r.timer.event} at ${new Date(r.timer.at).toISOString()}`)}">${escapeHtml(timerText(r.timer, now))}</span>`) +
      `<span class="c-last" title="${escapeHtml(last)}">${escapeHtml(r.last?.event ?? "")}</span>` +
      `<span class="c-updated">${ago(r.updated, now)}</span>` +
      `</div>`
  }

  render() {
    const now = this.now()
    const top = this.viewport.scrollTop
    const first = Math.max(0, Math.floor(top / rowHeight) - overscan)
    const last = Math.min(this.shown.length, Math.ceil((top + this.viewport.clientHeight) / rowHeight) + overscan)
    let html = ""
    for (let i = first; i < last; i++) {
      const room = this.table.byId.get(this.shown[i]!)
      if (room !== undefined) html += this.row(room, i, now)
    }
    this.spacer.innerHTML = html
  }
}
