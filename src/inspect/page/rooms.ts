// The page's copy of every room's machine: loaded page by page, then kept
// current by the change stream. Room ids are opaque strings here (the
// service may send 2171 or "abc-1").

export interface Transition {
  readonly seq: number
  readonly from: string
  readonly event: string
  readonly to: string
  readonly gateway: string | null
  readonly at: string
}

/** A row of GET /admin/machines. */
export interface MachineJson {
  readonly room: number | string
  readonly name: string
  readonly disabled: boolean
  readonly state: string
  readonly gateway: string | null
  readonly region: string | null
  readonly sessions: number
  readonly deadline: string | null
  readonly seq: number
  readonly updated_at: string | null
  readonly last: Transition | null
}

/** A `room` event of the stream: the live fields, `last` only when a transition was taken. */
export type ChangeJson = Omit<MachineJson, "name" | "disabled" | "last"> & { readonly last?: Transition }

export interface Room {
  readonly id: string
  name: string
  disabled: boolean
  state: string
  gateway: string | null
  region: string | null
  sessions: number
  /** epoch ms */
  deadline: number | null
  seq: number
  updated: number | null
  last: Transition | null
  /** When this page saw it change (for the flash), epoch ms. */
  changedAt: number
}

const ms = (iso: string | null | undefined) => (iso === null || iso === undefined ? null : Date.parse(iso))

export const roomOf = (m: MachineJson): Room => ({
  id: String(m.room),
  name: m.name,
  disabled: m.disabled,
  state: m.state,
  gateway: m.gateway,
  region: m.region,
  sessions: m.sessions,
  deadline: ms(m.deadline),
  seq: m.seq,
  updated: ms(m.updated_at),
  last: m.last,
  changedAt: 0
})

const collator = new Intl.Collator(undefined, { numeric: true })

export class RoomTable {
  readonly byId = new Map<string, Room>()
  /** Ids in display order (natural order: 2 before 10, "abc-2" before "abc-10"). */
  order: Array<string> = []

  replace(rooms: ReadonlyArray<Room>) {
    this.byId.clear()
    for (const r of rooms) this.byId.set(r.id, r)
    this.order = [...this.byId.keys()].sort(collator.compare)
  }

  /** Applies a change; answers the room (new when the listing did not have it yet). */
  apply(c: ChangeJson, now: number): { room: Room; added: boolean } {
    const id = String(c.room)
    let room = this.byId.get(id)
    const added = room === undefined
    if (room === undefined) {
      room = { id, name: "", disabled: false, state: c.state, gateway: null, region: null, sessions: 0, deadline: null, seq: 0, updated: null, last: null, changedAt: 0 }
      this.byId.set(id, room)
      this.order.push(id)
      this.order.sort(collator.compare)
    }
    room.state = c.state
    room.gateway = c.gateway
    room.region = c.region
    room.sessions = c.sessions
    room.deadline = ms(c.deadline)
    room.seq = c.seq
    room.updated = ms(c.updated_at)
    if (c.last !== undefined) room.last = c.last
    room.changedAt = now
    return { room, added }
  }

  /** Ids that pass the filters, in display order. */
  filter(state: string, gateway: string, search: string): Array<string> {
    const needle = search.trim().toLowerCase()
    return this.order.filter((id) => {
      const r = this.byId.get(id)!
      return (state === "" || r.state === state) &&
        (gateway === "" || r.gateway === gateway) &&
        (needle === "" || id.toLowerCase().includes(needle) || r.name.toLowerCase().includes(needle))
    })
  }

  counts(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const r of this.byId.values()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1)
    return counts
  }
}

/** "1m 05s", "42s", "due". */
export const countdown = (deadline: number, now: number): string => {
  const left = Math.ceil((deadline - now) / 1000)
  if (left <= 0) return "due"
  const h = Math.floor(left / 3600)
  const m = Math.floor((left % 3600) / 60)
  const s = left % 60
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`
  return m > 0 ? `${m}m ${String(s).padStart(2, "0")}s` : `${s}s`
}

/** "14:03:07" today, "2026-11-02 14:03" otherwise. */
export const clock = (at: number, now: number): string => {
  const d = new Date(at)
  const pad = (n: number) => String(n).padStart(2, "0")
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  return new Date(now).toDateString() === d.toDateString()
    ? time
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`
}
