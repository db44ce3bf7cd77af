// The rooms runtime: Room entities on a cluster, the client facade, the
// deadline sweep, and the stores they use.
import { Layer } from "effect"
import { GatewayStore } from "../db/gatewayStore.ts"
import { RoomStore } from "../db/roomStore.ts"
import { DeadlineSweep } from "./deadlines.ts"
import { makeRoomEntity } from "./host.ts"
import { Placement } from "./placement.ts"
import { Rooms } from "./rooms.ts"

const RoomEntity = Layer.unwrap(makeRoomEntity)

/** The rooms runtime on `cluster` (SingleRunner in a process, TestRunner in tests). */
export const roomsLayer = <ROut, E, RIn, RP = Layer.Services<typeof Placement.layer>>(
  cluster: Layer.Layer<ROut, E, RIn>,
  placement: Layer.Layer<Placement, never, RP> = Placement.layer as Layer.Layer<Placement, never, RP>
) =>
  DeadlineSweep.pipe(
    Layer.provideMerge(Rooms.layer),
    Layer.provideMerge(RoomEntity),
    Layer.provideMerge(placement),
    Layer.provideMerge(cluster),
    Layer.provideMerge(Layer.mergeAll(RoomStore.layer, GatewayStore.layer))
  )
