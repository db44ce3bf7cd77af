// The rooms runtime: Room entities on a cluster, the client facade, the
// deadline sweep, and the stores they use.
import { Layer } from "effect"
import { GatewayStore } from "../db/gatewayStore.ts"
import { RoomStore } from "../db/roomStore.ts"
import { RoomChanges } from "./changes.ts"
import { DeadlineSweep } from "./deadlines.ts"
import { Notices } from "../db/notices.ts"
import { DatabaseOutage } from "../db/databaseOutage.ts"
import { makeRoomEntity } from "./roomEntity.ts"
import { Placement } from "./placement.ts"
import { Rooms } from "./roomClient.ts"
import { EventLoopStalls } from "./stalls.ts"

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
    /** The clock rooms and the deadline sweep read (tests move a TestClock); Effect's own by default. */
    readonly clock?: Layer.Layer<never>
  } = {}
) =>
  DeadlineSweep.pipe(
    Layer.provide(options.clock ?? Layer.empty),
    Layer.provideMerge(options.rooms ?? Rooms.layer),
    Layer.provideMerge(RoomEntity.pipe(Layer.provide(options.clock ?? Layer.empty))),
    Layer.provideMerge(options.placement ?? (Placement.layer as Layer.Layer<Placement, never, RP>)),
    Layer.provideMerge(cluster),
    Layer.provideMerge(Layer.mergeAll(RoomStore.layer, GatewayStore.layer, RoomChanges.layer)),
    Layer.provideMerge(Notices.layer),
    Layer.provideMerge(Layer.mergeAll(DatabaseOutage.layer, EventLoopStalls.layer))
  )
