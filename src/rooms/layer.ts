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

type PlacementNeeds = Layer.Services<typeof Placement.layer>

/**
 * The rooms runtime on `cluster` (SingleRunner in a process, TestRunner in
 * tests); tests may replace the balancer's placement or the client facade.
 */
export const roomsLayer = <ROut, E, RIn, RP = PlacementNeeds>(
  cluster: Layer.Layer<ROut, E, RIn>,
  options: {
    readonly placement?: Layer.Layer<Placement, never, RP>
    readonly rooms?: typeof Rooms.layer
  } = {}
) =>
  DeadlineSweep.pipe(
    Layer.provideMerge(options.rooms ?? Rooms.layer),
    Layer.provideMerge(RoomEntity),
    Layer.provideMerge(options.placement ?? (Placement.layer as Layer.Layer<Placement, never, RP>)),
    Layer.provideMerge(cluster),
    Layer.provideMerge(Layer.mergeAll(RoomStore.layer, GatewayStore.layer))
  )
