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

/** The room's pending timer, only when firing it would change the room. */
export interface TimerJson {
  readonly at: string
  readonly event: string
  readonly to: string
  readonly releases: boolean
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
  readonly timer: TimerJson | null
  readonly seq: number
  readonly updated_at: string | null
  readonly last: Transition | null
}

/** A `room` event of the stream: the live fields, `last` only when a transition was taken. */
export type ChangeJson = Omit<MachineJson, "name" | "disabled" | "last"> & { readonly last?: Transition }

/** A `catalog` event of the stream: a room created or changed (its listing fields), or removed. */
export type CatalogJson =
  | { readonly room: number | string; readonly removed: true }
  | { readonly room: number | string; readonly removed: false; readonly name: string; readonly disabled: boolean }

/** A pending timer as the page keeps it. */
export interface Timer {
  /** epoch ms */
  readonly at: number
  readonly event: string
  readonly to: string
  readonly releases: boolean
}

export interface Room {
  readonly id: string
  name: string
  disabled: boolean
  state: string
  gateway: string | null
  region: string | null
  sessions: number
  /** The timer that will act, if any (a stored deadline whose timer would change nothing is not shown). */
  timer: Timer | null
  seq: number
  updated: number | null
  last: Transition | null
  /** When this page saw it change (for the flash), epoch ms. */
  changedAt: number
}

const ms = (iso: string | null | undefined) => (iso === null || iso === undefined ? null : Date.parse(iso))
const timerOf = (t: TimerJson | null | undefined): Timer | null => (t === null || t === undefined ? null : { ...t, at: Date.parse(t.at) })

/** A row as the page keeps it: the service's fields as they are, the id as text, times in epoch ms (the timer stands for the deadline). */
export const roomOf = ({ room, deadline: _, timer, updated_at, ...fields }: MachineJson): Room => ({
  ...fields,
  id: String(room),
  timer: timerOf(timer),
  updated: ms(updated_at),
  changedAt: 0
})

const collator = new Intl.Collator(undefined, { numeric: true })

const blank = (id: string, state: string): Room => ({
  id, name: "", disabled: false, state, gateway: null, region: null, sessions: 0, timer: null, seq: 0, updated: null, last: null, changedAt: 0
})

export class RoomTable {
  readonly byId = new Map<string, Room>()
  /**
   * Ids in display order (natural order: 2 before 10, "abc-2" before "abc-10").
   * Rooms added or removed only mark it unsorted: it is rebuilt once when next
   * filtered, so a burst of thousands of creates stays cheap.
   */
  private order: Array<string> = []
  private sorted = true
  /** Rooms removed since the listing was loaded: a late change of theirs does not bring them back. */
  private readonly removed = new Set<string>()

  replace(rooms: ReadonlyArray<Room>) {
    this.byId.clear()
    this.removed.clear()
    for (const r of rooms) this.byId.set(r.id, r)
    this.order = [...this.byId.keys()]
    this.sorted = false
  }

  private add(room: Room) {
    this.byId.set(room.id, room)
    this.order.push(room.id)
    this.sorted = false
  }

  /** Applies a change; answers the room (new when the listing did not have it yet), or undefined for a removed room. */
  apply(c: ChangeJson, now: number): { room: Room; added: boolean } | undefined {
    const id = String(c.room)
    if (this.removed.has(id)) return undefined
    let room = this.byId.get(id)
    const added = room === undefined
    if (room === undefined) {
      room = blank(id, c.state)
      this.add(room)
    }
    room.state = c.state
    room.gateway = c.gateway
    room.region = c.region
    room.sessions = c.sessions
    room.timer = timerOf(c.timer)
    room.seq = c.seq
    room.updated = ms(c.updated_at)
    if (c.last !== undefined) room.last = c.last
    room.changedAt = now
    return { room, added }
  }

  /**
   * Applies a room created, changed or removed. A new room has never run:
   * it is in the machine's initial state. Answers the room (undefined once removed).
   */
  applyCatalog(c: CatalogJson, initial: string, now: number): Room | undefined {
    const id = String(c.room)
    if (c.removed) {
      this.removed.add(id)
      if (this.byId.delete(id)) this.sorted = false
      return undefined
    }
    this.removed.delete(id)
    let room = this.byId.get(id)
    if (room === undefined) {
      room = blank(id, initial)
      this.add(room)
    }
    room.name = c.name
    room.disabled = c.disabled
    room.changedAt = now
    return room
  }

  /** Ids that pass the filters, in display order. */
  filter(state: string, gateway: string, search: string): Array<string> {
    const needle = search.trim().toLowerCase()
    if (!this.sorted) {
      this.order = [...new Set(this.order)].filter((id) => this.byId.has(id)).sort(collator.compare)
      this.sorted = true
    }
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

/** "in 1 min 05 s", "in 42 s", "now". */
export const countdown = (deadline: number, now: number): string => {
  const left = Math.ceil((deadline - now) / 1000)
  if (left <= 0) return "now"
  const h = Math.floor(left / 3600)
  const m = Math.floor((left % 3600) / 60)
  const s = left % 60
  if (h > 0) return `in ${h} h ${String(m).padStart(2, "0")} min`
  return m > 0 ? `in ${m} min ${String(s).padStart(2, "0")} s` : `in ${s} s`
}

/** What a pending timer will do and when: "releases in 24 s", "→ idle in 3 s". */
export const timerText = (timer: Timer, now: number): string =>
  `${timer.releases ? "releases" : `→ ${timer.to}`} ${countdown(timer.at, now)}`

/** "14:03:07" today, "2026-11-02 14:03" otherwise. */
export const clock = (at: number, now: number): string => {
  const d = new Date(at)
  const pad = (n: number) => String(n).padStart(2, "0")
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  return new Date(now).toDateString() === d.toDateString()
    ? time
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`
}
