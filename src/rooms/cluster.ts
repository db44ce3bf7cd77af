// Where Room entities run. One process: SingleRunner with in-memory runner
// storage. Its sharding settings come only from here, never from the
// process environment (HOST, PORT, … belong to the operator, not to us).
import { NodeCrypto } from "@effect/platform-node"
import { ConfigProvider, Layer } from "effect"
import { SingleRunner } from "effect/cluster"

export const singleProcessCluster = SingleRunner.layer({
  runnerStorage: "memory",
  shardingConfig: { entityMailboxCapacity: 10_000, maxResidentEntities: 50_000 }
}).pipe(
  Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({}))),
  Layer.provide(NodeCrypto.layerDigest),
  Layer.orDie
)
