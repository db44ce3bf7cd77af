// The meeting page: create a room or join one by its code, toggle mic,
// camera and screen, and see everyone's state change live. Rooms come from
// /api/rooms/…; everything live goes over the service's Socket.IO channel,
// whose client script the service serves itself (/socket.io/socket.io.min.js).
import type { Socket } from "socket.io-client"
import type { MemberView, RoomView } from "../../meetings/views.ts"

declare const io: typeof import("socket.io-client").io

type Flag = "isMicActive" | "isCamActive" | "isShareScreen"
type Refused = { readonly error: string }
interface Joined {
  readonly room: RoomView
  readonly janus: string
  readonly users: ReadonlyArray<MemberView>
  readonly user: MemberView
}
interface Change {
  readonly roomId: string
  readonly user: MemberView
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const userIdInput = byId<HTMLInputElement>("user-id")
const tokenInput = byId<HTMLInputElement>("token")
const flags: ReadonlyArray<readonly [Flag, string]> = [["isMicActive", "mic"], ["isCamActive", "cam"], ["isShareScreen", "screen"]]

// Each tab is a user of its own unless named otherwise.
userIdInput.value = sessionStorage.getItem("meet.userId") ?? `guest-${Math.random().toString(36).slice(2, 6)}`
userIdInput.addEventListener("change", () => sessionStorage.setItem("meet.userId", userIdInput.value))

let current: { readonly room: RoomView; readonly janus: string; me: string } | undefined
const users = new Map<string, MemberView>()

const say = (text: string) => {
  byId("message").textContent = text
}

const isRefused = (reply: unknown): reply is Refused =>
  typeof reply === "object" && reply !== null && typeof (reply as Refused).error === "string"

const socket: Socket = io({ path: "/socket.io" })

/** An event and its acknowledgement; a refusal is shown and answers undefined. */
const call = async <A>(event: string, payload?: unknown): Promise<A | undefined> => {
  try {
    const reply: unknown = payload === undefined
      ? await socket.timeout(10_000).emitWithAck(event)
      : await socket.timeout(10_000).emitWithAck(event, payload)
    if (isRefused(reply)) {
      say(reply.error)
      return undefined
    }
    say("")
    return reply as A
  } catch {
    say(`no answer to ${event}: the connection is down`)
    return undefined
  }
}

/** A JSON call to the service with the page's token; a refusal is shown and answers undefined. */
const http = async <A>(path: string, init: RequestInit = {}): Promise<A | undefined> => {
  const response = await fetch(path, {
    ...init,
    headers: { "content-type": "application/json", authorization: `Bearer ${tokenInput.value.trim()}` }
  })
  const body = await response.json() as A | Refused
  if (isRefused(body)) {
    say(body.error)
    return undefined
  }
  say("")
  return body as A
}

const render = () => {
  byId("room").hidden = current === undefined
  byId("lobby").hidden = current !== undefined
  if (current === undefined) return
  byId("room-name-shown").textContent = current.room.name
  byId("room-code").textContent = current.room.joinCode
  byId("room-gateway").textContent = current.janus
  const me = users.get(current.me)
  for (const button of document.querySelectorAll<HTMLButtonElement>(".toggles [data-flag]")) {
    button.setAttribute("aria-pressed", String(me?.[button.dataset.flag as Flag] ?? false))
  }
  const list = byId<HTMLUListElement>("users")
  list.replaceChildren(...[...users.values()].map((user) => {
    const li = document.createElement("li")
    li.dataset.userId = user.userId
    li.dataset.session = user.id
    li.classList.toggle("me", user.id === current?.me)
    const name = document.createElement("span")
    name.className = "name"
    name.textContent = user.display
    li.append(name)
    for (const [flag, label] of flags) {
      li.dataset[label] = String(user[flag])
      const badge = document.createElement("span")
      badge.className = `flag ${label}${user[flag] ? " on" : ""}`
      badge.textContent = label
      li.append(badge)
    }
    return li
  }))
}

const join = async (roomId: string) => {
  const joined = await call<Joined>("joinRoom", { roomId, token: tokenInput.value.trim(), userId: userIdInput.value.trim() })
  if (joined === undefined) return
  current = { room: joined.room, janus: joined.janus, me: joined.user.id }
  users.clear()
  for (const user of joined.users) users.set(user.id, user)
  render()
}

byId<HTMLFormElement>("create-form").addEventListener("submit", async (event) => {
  event.preventDefault()
  const name = byId<HTMLInputElement>("room-name").value
  const created = await http<{ room: RoomView }>("/api/rooms/create", { method: "POST", body: JSON.stringify({ name }) })
  if (created !== undefined) await join(created.room.id)
})

byId<HTMLFormElement>("join-form").addEventListener("submit", async (event) => {
  event.preventDefault()
  const code = byId<HTMLInputElement>("join-code").value.trim()
  const found = await http<{ room: RoomView }>(`/api/rooms/join/${encodeURIComponent(code)}`)
  if (found !== undefined) await join(found.room.id)
})

for (const button of document.querySelectorAll<HTMLButtonElement>(".toggles [data-flag]")) {
  button.addEventListener("click", async () => {
    const flag = button.dataset.flag as Flag
    const me = current === undefined ? undefined : users.get(current.me)
    if (me === undefined) return
    const updated = await call<{ user: MemberView }>("updateUser", { [flag]: !me[flag] })
    if (updated === undefined) return
    users.set(updated.user.id, updated.user)
    render()
  })
}

byId("leave").addEventListener("click", async () => {
  if ((await call("leaveRoom")) === undefined) return
  current = undefined
  users.clear()
  render()
})

const inRoom = (change: Change) => current !== undefined && change.roomId === current.room.id

socket.on("userJoined", (change: Change) => {
  if (!inRoom(change)) return
  users.set(change.user.id, change.user)
  render()
})
socket.on("userUpdated", (change: Change) => {
  if (!inRoom(change)) return
  users.set(change.user.id, change.user)
  render()
})
socket.on("userLeft", (change: Change) => {
  if (!inRoom(change)) return
  if (change.user.id === current?.me) {
    current = undefined
    users.clear()
    say("You left the room (your session was closed): join again")
  } else users.delete(change.user.id)
  render()
})

const status = byId("connection")
socket.on("connect", () => {
  status.dataset.status = "live"
  status.textContent = "live"
  // A new connection is a new session: back into the room it was in.
  if (current !== undefined) void join(current.room.id)
})
socket.on("disconnect", () => {
  status.dataset.status = "reconnecting"
  status.textContent = "reconnecting…"
})
socket.on("connect_error", (error) => {
  status.dataset.status = "reconnecting"
  status.textContent = "reconnecting…"
  status.title = error.message
})

render()
