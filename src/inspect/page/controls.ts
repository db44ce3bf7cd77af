// The page's controls: the options of a select kept in step with the data,
// and the selected room's change buttons, enabled only when the change
// makes sense, with the reason on those that are not.
import type { GatewayJson } from "./panels.ts"
import type { Room } from "./rooms.ts"

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

/** Sets a select's options ("" first), keeping its value when it is still offered. */
export const setOptions = (select: HTMLSelectElement, values: ReadonlyArray<string>, labels: (v: string) => string = (v) => (v === "" ? "all" : v)) => {
  const current = select.value
  const wanted = ["", ...values]
  const have = [...select.options].map((o) => o.value)
  if (have.join("\n") === wanted.join("\n")) return
  select.replaceChildren(...wanted.map((v) => new Option(labels(v), v)))
  select.value = wanted.includes(current) ? current : ""
}

/** Release and reassign for the selected room; a room can move only to a gateway that takes rooms. */
export const showRoomActions = (room: Room | undefined, gateways: ReadonlyArray<GatewayJson>) => {
  byId("room-actions").hidden = room === undefined
  if (room === undefined) return
  const release = byId<HTMLButtonElement>("release")
  const releasable = room.gateway !== null && (room.state === "draining" || (room.state === "assigned" && room.sessions === 0))
  release.disabled = !releasable
  release.title = releasable
    ? `Free ${room.gateway} of this room now`
    : room.gateway === null
    ? "The room has no gateway to release"
    : room.sessions > 0
    ? "A room with users keeps its gateway: close their sessions first"
    : `A room that is ${room.state} cannot be released`
  const reassign = byId<HTMLButtonElement>("reassign")
  const target = byId<HTMLSelectElement>("reassign-to")
  reassign.disabled = room.state !== "assigned"
  reassign.title = room.state === "assigned" ? `Move the room off ${room.gateway}` : "Only an assigned room can be moved"
  target.disabled = reassign.disabled
  const targets = gateways.filter((g) => g.name !== room.gateway && g.enabled && g.available && !g.draining && g.online !== false).map((g) => g.name)
  setOptions(target, targets, (v) => (v === "" ? "where the balancer chooses" : v))
}
