// Where Room entities run. One process: every room is here (in-memory
// runner storage). Several processes on one Postgres: each is a runner of
// the cluster, rooms are sharded over the runners (shard locks and runner
// state in Postgres) and a call reaching any process is routed to its room's
// runner. Sharding settings come only from CLUSTER_* variables, never from
// the generic HOST, PORT, … the cluster library would otherwise read.
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { layerClientProtocol, layerSocketServer } from "@effect/platform-node/NodeClusterSocket"
import { networkInterfaces } from "node:os"
import { type Context, Duration, Effect, Layer, Option, Schema } from "effect"
import {
  type MessageStorage,
  RunnerAddress,
  RunnerHealth,
  Runners,
  RunnerStorage,
  Sharding,
  ShardingConfig,
  ShardId,
  SocketRunner,
  SqlMessageStorage,
  SqlRunnerStorage
} from "effect/cluster"
import { RpcSerialization } from "effect/rpc"
import { AppConfig, isLoopback, type RunnerAddressSetting, type Settings } from "../config.ts"

/** The cluster's own tables: room_cluster_runners, room_cluster_messages, … */
const tablePrefix = "room_cluster"

// A message to a room this process hosts is handed over as it is: the
// cluster's default encodes and decodes it as if it crossed the network
// (a check for development that costs a sticky request about 7 % of its time);
// the deployment tests send every message kind between real processes.
const capacity = { entityMailboxCapacity: 10_000, maxResidentEntities: 50_000, shardsPerGroup: 300, simulateRemoteSerialization: false } as const

/** One process hosts every room. */
export const singleProcessCluster = Sharding.layer.pipe(
  Layer.provideMerge(Runners.layerNoop),
  Layer.provideMerge(SqlMessageStorage.layerWith({ prefix: tablePrefix })),
  Layer.provide([RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
  Layer.provide(ShardingConfig.layer(capacity)),
  Layer.provide(NodeCrypto.layerDigest),
  Layer.orDie
)

/** This machine's first non-loopback IPv4 address: what a container's replicas dial each other at. */
export const ownAddress = (): string | undefined =>
  Object.values(networkInterfaces()).flat().find((i) => i !== undefined && i.family === "IPv4" && !i.internal)?.address

/** Where this runner is reached and where it listens: where it is reached, unless CLUSTER_LISTEN_ADDRESS says otherwise. */
export const runnerAddresses = (advertised: RunnerAddressSetting, listen: Settings["clusterListenAddress"]) => {
  const host = advertised.host === "auto" ? ownAddress() ?? "127.0.0.1" : advertised.host
  return {
    advertised: RunnerAddress.make(host, advertised.port),
    listen: listen !== undefined ? RunnerAddress.make(listen.host, listen.port) : RunnerAddress.make(host, advertised.port)
  }
}

/** Takeover timings: a runner that stops refreshing its locks loses its shards after `clusterLockExpiration`. */
export const shardingSettings = (s: Settings, advertised: RunnerAddress.RunnerAddress, listen: RunnerAddress.RunnerAddress) =>
  ({
    ...capacity,
    runnerAddress: Option.some(advertised),
    runnerListenAddress: Option.some(listen),
    shardsPerGroup: s.clusterShards,
    shardLockExpiration: Duration.millis(s.clusterLockExpiration),
    shardLockRefreshInterval: Duration.millis(s.clusterLockRefresh),
    runnerHealthCheckInterval: Duration.millis(s.clusterHealthCheckInterval),
    refreshAssignmentsInterval: Duration.millis(Math.min(500, s.clusterLockRefresh))
  }) satisfies Partial<ShardingConfig.ShardingConfig["Service"]>

/** This process as one runner of the cluster on the shared Postgres. */
export const runnerCluster = (s: Settings, address: RunnerAddressSetting) => {
  const { advertised, listen } = runnerAddresses(address, s.clusterListenAddress)
  return SocketRunner.layer.pipe(
    Layer.provide([layerSocketServer, layerClientProtocol]),
    Layer.provide(RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(layerClientProtocol))),
    Layer.provideMerge(SqlMessageStorage.layerWith({ prefix: tablePrefix }).pipe(Layer.provide(NodeCrypto.layerDigest))),
    Layer.provide(Layer.orDie(SqlRunnerStorage.layerWith({ prefix: tablePrefix }))),
    Layer.provide(ShardingConfig.layer(shardingSettings(s, advertised, listen))),
    Layer.provide(RpcSerialization.layerSchemaBinary()),
    Layer.tap(() =>
      Effect.logInfo("Cluster runner started").pipe(
        Effect.annotateLogs({ runner: `${advertised.host}:${advertised.port}`, listen: `${listen.host}:${listen.port}`, shards: s.clusterShards }),
        Effect.andThen(isLoopback(listen.host) ? Effect.void : Effect.logWarning(
          "The cluster's runner port listens beyond this machine without authentication (CLUSTER_NETWORK=trusted): only the deployment's private network may reach it"
        ).pipe(Effect.annotateLogs({ listen: `${listen.host}:${listen.port}` })))
      )
    ),
    Layer.catchTag("SocketServerError", (e) =>
      Layer.effectContext(Effect.fail(new ClusterUnavailable({
        message: `Cannot listen for other processes on ${listen.host}:${listen.port} (CLUSTER_LISTEN_ADDRESS / CLUSTER_RUNNER_ADDRESS): ${e.message}`
      })) as Effect.Effect<Context.Context<Sharding.Sharding | Runners.Runners | MessageStorage.MessageStorage>, ClusterUnavailable>))
  )
}

export class ClusterUnavailable extends Schema.TaggedError<ClusterUnavailable>()("ClusterUnavailable", {
  message: Schema.String
}) {}

/** The cluster the settings name. */
export const Cluster = Layer.unwrap(Effect.gen(function*() {
  const config = yield* AppConfig
  return config.clusterRunnerAddress === undefined ? singleProcessCluster : runnerCluster(config, config.clusterRunnerAddress)
}))

/** This process's share of the rooms: its runner address (null when alone) and the shards it holds now. */
export const clusterShare = Effect.gen(function*() {
  const config = yield* AppConfig
  const sharding = yield* Sharding.Sharding
  const of = config.clusterRunnerAddress === undefined ? capacity.shardsPerGroup : config.clusterShards
  let shards = 0
  for (let id = 1; id <= of; id++) if (sharding.hasShardId(ShardId.make("default", id))) shards++
  const address = config.clusterRunnerAddress === undefined ? undefined : runnerAddresses(config.clusterRunnerAddress, undefined).advertised
  return { runner: address === undefined ? null : `${address.host}:${address.port}`, shards, of }
})
