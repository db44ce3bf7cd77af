// The real-time side of the service: the Socket.IO channel with what it
// uses, and the meeting page (GET /meet) that drives it from a browser.
import { Layer } from "effect"
import { fileURLToPath } from "node:url"
import { pageRoutes } from "../serving/page.ts"
import { CallerIdentity } from "./callerIdentity.ts"
import { RealtimeChannel } from "./channel.ts"
import { Members } from "./members.ts"

/** The channel; build it after the HTTP routes serve, so it can attach beside them. */
export const realtimeLayer = RealtimeChannel.pipe(Layer.provide(Layer.mergeAll(Members.layer, CallerIdentity.layer)))

export const MeetPage = pageRoutes("/meet", fileURLToPath(new URL("./page/", import.meta.url)), "the meeting page")
