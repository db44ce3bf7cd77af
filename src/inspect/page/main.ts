// The room inspector: every room's machine, filterable, kept live by the
// change stream (rooms appear and go as they are created and removed); the
// selected room's machine diagram, members and history; the gateways'
// load; and the operator's changes (actions.ts). Loaded from the service
// itself, no outside resources.
import { closeSession, drainGateway, reassignRoom, releaseRoom } from "./actions.ts"
import { finishLogin, followChanges, forget, getJson, HttpFailure, login, loginProblem, setUpLogin, signedIn, type StreamStatus } from "./api.ts"
import { setOptions, showRoomActions } from "./controls.ts"
import { MachineDiagram } from "./diagram.ts"
import type { Definition } from "./layout.ts"
import { RoomList } from "./list.ts"
import { ageMembers, type GatewayJson, type MemberJson, renderCounts, renderFacts, renderGateways, renderHistory, renderMembers } from "./panels.ts"
import { type CatalogJson, type ChangeJson, type MachineJson, roomOf, RoomTable, type Transition } from "./rooms.ts"

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

const page = 2000
/** Gateway loads are re-read at most this often while rooms change. */
const gatewayRefresh = 500
/** Gateways (status, users) and the selected room's members (keepalives, flags) change without a room step: re-read this often. */
const poll = 5000

const table = new RoomTable()
let skew = 0
const now = () => Date.now() + skew
/** The selected room (`?room=`, read once a login has put the page's address back). */
let selected: string | null = null
let roomHistory: ReadonlyArray<Transition> | undefined
let members: ReadonlyArray<MemberJson> | undefined
let gateways: ReadonlyArray<GatewayJson> = []
let diagram: MachineDiagram | undefined
let definition: Definition | undefined

const stateFilter = byId<HTMLSelectElement>("filter-state")
const gatewayFilter = byId<HTMLSelectElement>("filter-gateway")
const search = byId<HTMLInputElement>("search")
const reassignTo = byId<HTMLSelectElement>("reassign-to")

const list = new RoomList(table, byId("rows"), byId("spacer"), now, () => selected, (id) => select(id))

const setStatus = (status: StreamStatus, detail?: string) => {
  const el = byId("connection")
  el.dataset.status = status
  el.textContent = status === "live" ? "live" : status === "connecting" ? "connecting…" : "reconnecting…"
  el.title = detail ?? ""
}

const showWho = () => {
  const who = signedIn()
  byId("who").hidden = who === undefined
  byId("who-name").textContent = who === undefined ? "" : who.name
  byId("who-name").title = who === undefined ? "" : `roles: ${who.roles.join(", ") || "none"}`
}

let filterPending = false
/** Re-filters and re-counts on the next frame. */
const refilter = () => {
  if (filterPending) return
  filterPending = true
  requestAnimationFrame(() => {
    filterPending = false
    const counts = table.counts()
    // A state the definition does not name (a machine changed under old rows) can still be filtered.
    setOptions(stateFilter, [...new Set([...(definition?.states ?? []), ...counts.keys()])])
    renderCounts(byId("counts"), definition?.states ?? [], counts, stateFilter.value)
    const shown = table.filter(stateFilter.value, gatewayFilter.value, search.value)
    byId("shown").textContent = `${shown.length} of ${table.byId.size} rooms`
    list.setShown(shown)
  })
}

const showDetail = () => {
  const room = selected === null ? undefined : table.byId.get(selected)
  byId("detail-title").textContent = room === undefined
    ? selected === null ? "Select a room" : `Room ${selected} · removed`
    : `Room ${room.id}${room.name === "" ? "" : ` · ${room.name}`}`
  byId("machine-title").textContent = room === undefined ? "Machine" : `Machine · room ${room.id} is ${room.state}`
  renderFacts(byId("detail-facts"), room, now())
  showRoomActions(room, gateways)
  diagram?.highlight({ state: room?.state ?? null, last: room?.last ?? null })
  renderHistory(byId<HTMLTableElement>("history").tBodies[0]!, byId("history-empty"), roomHistory, now())
  showMembers()
}

const showMembers = () => {
  byId("members-count").textContent = members === undefined ? "" : String(members.length)
  const body = byId<HTMLTableElement>("members").tBodies[0]!
  renderMembers(body, byId("members-empty"), members)
  ageMembers(body, now())
}

/**
 * Reads one of the selected room's lists into `keep` and shows it with
 * `show`, answering only the latest of overlapping reads, for the room still
 * selected; a failed read shows an empty list and why, in `empty`.
 */
const roomList = <T>(
  read: (room: string) => Promise<ReadonlyArray<T>>,
  keep: (list: ReadonlyArray<T>) => void,
  show: () => void,
  empty: string
) => {
  let ticket = 0
  return async () => {
    // a room removed since it was selected has nothing more to read
    if (selected === null || !table.byId.has(selected)) return
    const mine = ++ticket
    const room = selected
    const current = () => mine === ticket && room === selected
    try {
      const list = await read(room)
      if (!current()) return
      keep(list)
      show()
    } catch (e) {
      if (!current()) return
      keep([])
      show()
      byId(empty).textContent = e instanceof Error ? e.message : String(e)
    }
  }
}

const loadHistory = roomList(
  async (room) => (await getJson<{ history: Array<Transition> }>(`/admin/machines/history?room=${encodeURIComponent(room)}`)).history,
  (list) => (roomHistory = list),
  showDetail,
  "history-empty"
)

const loadMembers = roomList(
  async (room) => (await getJson<{ sessions: Array<MemberJson> }>(`/admin/sessions?room=${encodeURIComponent(room)}&limit=1000`)).sessions,
  (list) => (members = list),
  showMembers,
  "members-empty"
)

const select = (id: string) => {
  if (selected !== id) {
    roomHistory = undefined
    members = undefined
  }
  selected = id
  const url = new URL(location.href)
  url.searchParams.set("room", id)
  history.replaceState(null, "", url)
  list.schedule()
  showDetail()
  void loadHistory()
  void loadMembers()
}

let gatewayTicket = 0
/** Reads the gateways; an answer to a read older than the last one sent is dropped. */
const loadGateways = async () => {
  const mine = ++gatewayTicket
  const answer = await getJson<Array<GatewayJson>>("/admin/gateway-loads")
  if (mine !== gatewayTicket) return
  gateways = answer
  renderGateways(byId("gateways"), gateways)
  setOptions(gatewayFilter, [...new Set([...gateways.map((g) => g.name), ...[...table.byId.values()].flatMap((r) => (r.gateway === null ? [] : [r.gateway]))])])
  showRoomActions(selected === null ? undefined : table.byId.get(selected), gateways)
}
let gatewaysTimer: ReturnType<typeof setTimeout> | undefined
let gatewaysRead = 0
/** Re-reads the gateways at once, or as soon as half a second has passed since the last read: a change while one waits is read by it. */
const refreshGatewaysSoon = () => {
  if (gatewaysTimer !== undefined) return
  gatewaysTimer = setTimeout(() => {
    gatewaysTimer = undefined
    gatewaysRead = Date.now()
    void loadGateways().catch(() => {})
  }, Math.max(0, gatewaysRead + gatewayRefresh - Date.now()))
}

/** Everything, page by page (called on every (re)connection of the stream). */
const loadAll = async () => {
  const rooms: Array<MachineJson> = []
  let cursor: string | null = null
  do {
    const answer: { now: string; rooms: Array<MachineJson>; next_cursor: string | null } = await getJson(
      `/admin/machines?limit=${page}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`
    )
    const measured = Date.parse(answer.now) - Date.now()
    // Below a second it is the request's own latency, not a clock apart.
    skew = Math.abs(measured) < 1000 ? 0 : measured
    rooms.push(...answer.rooms)
    cursor = answer.next_cursor
  } while (cursor !== null)
  table.replace(rooms.map(roomOf))
  showWho()
  await loadGateways()
  refilter()
  showDetail()
  if (selected !== null) await Promise.all([loadHistory(), loadMembers()])
}

const onChange = (c: ChangeJson) => {
  const changed = table.apply(c, Date.now())
  refreshGatewaysSoon()
  if (changed === undefined) return
  refilter()
  if (changed.room.id === selected) {
    showDetail()
    // Any committed step may have appended to its history (transitions, and membership rows).
    void loadHistory()
    void loadMembers()
  }
}

const onCatalog = (c: CatalogJson) => {
  const room = table.applyCatalog(c, definition?.initial ?? "idle", Date.now())
  refilter()
  if (String(c.room) !== selected) return
  if (room === undefined) {
    roomHistory = undefined
    members = undefined
  }
  showDetail()
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const loadDefinition = async (): Promise<Definition> => {
  for (let wait = 500; ; wait = Math.min(wait * 2, 10_000)) {
    try {
      return await getJson<Definition>("/admin/machine")
    } catch (e) {
      setStatus("reconnecting", e instanceof Error ? e.message : String(e))
      await sleep(wait)
    }
  }
}

const selectedRoom = () => (selected === null ? undefined : table.byId.get(selected))

const release = async () => {
  const room = selectedRoom()
  if (room === undefined) return
  await releaseRoom(room)
  refreshGatewaysSoon()
}

const reassign = async () => {
  const room = selectedRoom()
  if (room === undefined) return
  await reassignRoom(room, reassignTo.value)
  refreshGatewaysSoon()
}

const closeMember = async (session: string, name: string) => {
  if (selected === null) return
  if (await closeSession(selected, session, name)) void loadMembers()
  refreshGatewaysSoon()
}

const drain = async (gateway: string, draining: boolean) => {
  if (await drainGateway(gateway, draining, gateways.find((g) => g.name === gateway)?.rooms)) await loadGateways().catch(() => {})
}

const start = async () => {
  setUpLogin()
  const problem = await finishLogin(login)
  if (problem !== undefined) loginProblem(problem)
  selected = new URLSearchParams(location.search).get("room")
  showWho()
  byId("logout").addEventListener("click", () => {
    forget()
    location.reload()
  })
  definition = await loadDefinition()
  setOptions(stateFilter, definition.states)
  diagram = new MachineDiagram(definition, byId("diagram"))
  // A new filter starts at the top of its list.
  const filtered = () => {
    list.toTop()
    refilter()
  }
  for (const input of [stateFilter, gatewayFilter]) input.addEventListener("change", filtered)
  search.addEventListener("input", filtered)
  byId("filters").addEventListener("submit", (e) => e.preventDefault())
  byId("counts").addEventListener("click", (e) => {
    const chip = (e.target as HTMLElement).closest<HTMLElement>(".chip")
    if (chip === null) return
    stateFilter.value = chip.dataset.state ?? ""
    filtered()
  })
  byId("release").addEventListener("click", () => void release())
  byId("reassign").addEventListener("click", () => void reassign())
  byId("members").addEventListener("click", (e) => {
    const button = (e.target as HTMLElement).closest<HTMLButtonElement>(".m-close")
    if (button !== null) void closeMember(button.dataset.session!, button.dataset.name!)
  })
  byId("gateways").addEventListener("click", (e) => {
    const button = (e.target as HTMLElement).closest<HTMLButtonElement>(".g-drain")
    if (button !== null) void drain(button.dataset.gateway!, button.dataset.draining !== "true")
  })
  // Timers count down, "changed" and keepalives age, flashes fade.
  setInterval(() => {
    list.render()
    if (selected !== null) {
      renderFacts(byId("detail-facts"), table.byId.get(selected), now())
      ageMembers(byId<HTMLTableElement>("members").tBodies[0]!, now())
    }
  }, 1000)
  setInterval(() => {
    if (byId("connection").dataset.status !== "live") return
    void loadGateways().catch(() => {})
    void loadMembers()
  }, poll)
  await followChanges("/admin/machines/events", {
    ready: loadAll,
    status: setStatus,
    event: (name, data) => {
      if (name === "room") onChange(data as ChangeJson)
      else if (name === "catalog") onCatalog(data as CatalogJson)
    }
  })
}

start().catch((e: unknown) => {
  setStatus("reconnecting", e instanceof HttpFailure ? e.message : String(e))
  byId("connection").textContent = `failed: ${e instanceof Error ? e.message : String(e)}`
})
