// The room inspector: every room's machine, filterable, kept live by the
// change stream; the machine diagram and history of the selected room; the
// gateways' load. Loaded from the service itself, no outside resources.
import { followChanges, getJson, HttpFailure, type StreamStatus } from "./api.ts"
import { MachineDiagram } from "./diagram.ts"
import type { Definition } from "./layout.ts"
import { RoomList } from "./list.ts"
import { type GatewayJson, renderCounts, renderFacts, renderGateways, renderHistory } from "./panels.ts"
import { type ChangeJson, type MachineJson, roomOf, RoomTable, type Transition } from "./rooms.ts"

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

const page = 2000
/** Gateway loads are re-read at most this often while rooms change. */
const gatewayRefresh = 1000

const table = new RoomTable()
let skew = 0
const now = () => Date.now() + skew
let selected: string | null = new URLSearchParams(location.search).get("room")
let roomHistory: ReadonlyArray<Transition> | undefined
let diagram: MachineDiagram | undefined
let definition: Definition | undefined

const stateFilter = byId<HTMLSelectElement>("filter-state")
const gatewayFilter = byId<HTMLSelectElement>("filter-gateway")
const search = byId<HTMLInputElement>("search")

const list = new RoomList(table, byId("rows"), byId("spacer"), now, () => selected, (id) => select(id))

const setStatus = (status: StreamStatus, detail?: string) => {
  const el = byId("connection")
  el.dataset.status = status
  el.textContent = status === "live" ? "live" : status === "connecting" ? "connecting…" : "reconnecting…"
  el.title = detail ?? ""
}

const setOptions = (select: HTMLSelectElement, values: ReadonlyArray<string>) => {
  const current = select.value
  const wanted = ["", ...values]
  const have = [...select.options].map((o) => o.value)
  if (have.join("\n") === wanted.join("\n")) return
  select.replaceChildren(...wanted.map((v) => new Option(v === "" ? "all" : v, v)))
  select.value = wanted.includes(current) ? current : ""
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
  byId("detail-title").textContent = room === undefined ? "Machine" : `Room ${room.id}${room.name === "" ? "" : ` · ${room.name}`}`
  renderFacts(byId("detail-facts"), room, now())
  diagram?.highlight({ state: room?.state ?? null, last: room?.last ?? null })
  renderHistory(byId<HTMLTableElement>("history").tBodies[0]!, byId("history-empty"), roomHistory, now())
}

let historyRequest = 0
const loadHistory = async () => {
  if (selected === null) return
  const ticket = ++historyRequest
  const room = selected
  try {
    const answer = await getJson<{ history: Array<Transition> }>(`/admin/machines/history?room=${encodeURIComponent(room)}`)
    if (ticket !== historyRequest) return
    roomHistory = answer.history
  } catch (e) {
    if (ticket !== historyRequest) return
    roomHistory = []
    byId("history-empty").textContent = e instanceof Error ? e.message : String(e)
  }
  showDetail()
}

const select = (id: string) => {
  if (selected !== id) roomHistory = undefined
  selected = id
  const url = new URL(location.href)
  url.searchParams.set("room", id)
  history.replaceState(null, "", url)
  list.schedule()
  showDetail()
  void loadHistory()
}

let gatewaysTimer: ReturnType<typeof setTimeout> | undefined
const loadGateways = async () => {
  const gateways = await getJson<Array<GatewayJson>>("/admin/gateway-loads")
  renderGateways(byId("gateways"), gateways)
  setOptions(gatewayFilter, [...new Set([...gateways.map((g) => g.name), ...[...table.byId.values()].flatMap((r) => (r.gateway === null ? [] : [r.gateway]))])])
}
const refreshGatewaysSoon = () => {
  gatewaysTimer ??= setTimeout(() => {
    gatewaysTimer = undefined
    void loadGateways().catch(() => {})
  }, gatewayRefresh)
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
  await loadGateways()
  refilter()
  showDetail()
  if (selected !== null) await loadHistory()
}

const onChange = (c: ChangeJson) => {
  const { room } = table.apply(c, Date.now())
  refilter()
  refreshGatewaysSoon()
  if (room.id === selected) {
    showDetail()
    // Any committed step may have appended to its history (transitions, and membership rows).
    void loadHistory()
  }
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

const start = async () => {
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
  // Deadlines count down, "changed" ages, flashes fade.
  setInterval(() => {
    list.render()
    if (selected !== null) renderFacts(byId("detail-facts"), table.byId.get(selected), now())
  }, 1000)
  await followChanges("/admin/machines/events", {
    ready: loadAll,
    status: setStatus,
    event: (name, data) => {
      if (name === "room") onChange(data as ChangeJson)
    }
  })
}

start().catch((e: unknown) => {
  setStatus("reconnecting", e instanceof HttpFailure ? e.message : String(e))
  byId("connection").textContent = `failed: ${e instanceof Error ? e.message : String(e)}`
})
