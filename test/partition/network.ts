// The partition lab's network: a namespace per runner, all on one bridge
// that lives in a namespace of its own (the hub), and one veth from the hub
// to this (the root) namespace carrying the lab's host address — where the
// database relay and the broker listen and the load generator comes from.
// Nothing is forwarded or routed in the root namespace: it only gains one
// interface on a private /24 that no route of the machine covers. Faults are
// nftables rules inside a runner's namespace; deleting the namespaces
// removes the veths, the bridge and every rule.
import { execFileSync } from "node:child_process"

const prefix = "ropart"

export interface Runner {
  readonly index: number
  /** The runner's network namespace. */
  readonly namespace: string
  /** Its address on the lab's bridge. */
  readonly address: string
}

export interface Lab {
  readonly id: string
  /** This namespace's address on the lab's bridge: the relay, the broker and the clients. */
  readonly host: string
  readonly runners: ReadonlyArray<Runner>
  /** Runs a command inside runner `i`'s namespace. */
  readonly exec: (i: number, command: ReadonlyArray<string>) => string
  /** Drops runner `i`'s packets to and from `host:port` (each port given), both directions. */
  readonly cutFrom: (i: number, ports: ReadonlyArray<number>) => void
  /** Drops every packet between runner `i` and the other runners. */
  readonly cutFromPeers: (i: number) => void
  /** Drops `percent` % of runner `i`'s packets to and from `host:port`, each direction. */
  readonly lossTo: (i: number, ports: ReadonlyArray<number>, percent: number) => void
  /** Removes every fault rule of runner `i`. */
  readonly heal: (i: number) => void
  /** The rules in force in runner `i`'s namespace (for the report). */
  readonly rules: (i: number) => string
  /** Deletes the namespaces (with their veths, bridge and rules). */
  readonly destroy: () => void
}

const run = (command: string, args: ReadonlyArray<string>, input?: string): string =>
  execFileSync(command, args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], ...(input === undefined ? {} : { input }) })

const ip = (...args: ReadonlyArray<string>) => run("ip", args)

const namespaces = (): ReadonlyArray<string> =>
  ip("netns", "list").split("\n").map((l) => l.split(" ")[0]!).filter((n) => n !== "")

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Deletes the namespaces of labs whose process is gone (a run that was killed outright). */
export const removeLeftovers = (): ReadonlyArray<string> => {
  const removed: Array<string> = []
  for (const ns of namespaces()) {
    const m = new RegExp(`^${prefix}-(\\d+)-`).exec(ns)
    if (m === null || alive(Number(m[1]))) continue
    try {
      ip("netns", "del", ns)
      removed.push(ns)
    } catch {
      // gone meanwhile
    }
  }
  return removed
}

/** A /24 in 10.0.0.0/8 that no address or route of this namespace touches. */
const freeSubnet = (): string => {
  const used = ip("-4", "route", "show", "table", "all") + ip("-4", "addr")
  for (let n = process.pid % 200; n < process.pid % 200 + 200; n++) {
    const subnet = `10.213.${(n % 200) + 20}`
    if (!used.includes(`${subnet}.`)) return subnet
  }
  throw new Error("no free 10.213.x.0/24 for the partition lab")
}

/** Whether this process may build the lab: root, `ip netns` and `nft` present. */
export const labProblem = (): string | undefined => {
  if (process.getuid?.() !== 0) return "the partition lab needs root (network namespaces, nftables)"
  for (const [program, args] of [["ip", ["-V"]], ["nft", ["--version"]]] as const) {
    try {
      run(program, args)
    } catch {
      return `${program} is not installed (Debian: ${program === "nft" ? "nftables" : "iproute2"})`
    }
  }
  return undefined
}

export const createLab = (size: number): Lab => {
  const id = String(process.pid)
  const subnet = freeSubnet()
  const host = `${subnet}.1`
  const hub = `${prefix}-${id}-hub`
  const tag = process.pid.toString(36).slice(-5)
  const created: Array<string> = []
  const runners: Array<Runner> = Array.from({ length: size }, (_, index) => ({
    index,
    namespace: `${prefix}-${id}-r${index}`,
    address: `${subnet}.${11 + index}`
  }))
  const destroy = () => {
    for (const ns of created.reverse()) {
      try {
        ip("netns", "del", ns)
      } catch {
        // already gone
      }
    }
    created.length = 0
  }
  const inNs = (ns: string, ...args: ReadonlyArray<string>) => ip("netns", "exec", ns, ...args)
  try {
    ip("netns", "add", hub)
    created.push(hub)
    inNs(hub, "ip", "link", "set", "lo", "up")
    inNs(hub, "ip", "link", "add", "br0", "type", "bridge")
    inNs(hub, "ip", "link", "set", "br0", "up")
    // root ⇄ hub: the root end carries the lab's host address
    ip("link", "add", `rp${tag}h`, "type", "veth", "peer", "name", "uplink", "netns", hub)
    ip("addr", "add", `${host}/24`, "dev", `rp${tag}h`)
    ip("link", "set", `rp${tag}h`, "up")
    inNs(hub, "ip", "link", "set", "uplink", "master", "br0", "up")
    for (const r of runners) {
      ip("netns", "add", r.namespace)
      created.push(r.namespace)
      inNs(r.namespace, "ip", "link", "set", "lo", "up")
      inNs(hub, "ip", "link", "add", `r${r.index}`, "type", "veth", "peer", "name", "eth0", "netns", r.namespace)
      inNs(hub, "ip", "link", "set", `r${r.index}`, "master", "br0", "up")
      inNs(r.namespace, "ip", "addr", "add", `${r.address}/24`, "dev", "eth0")
      inNs(r.namespace, "ip", "link", "set", "eth0", "up")
      // the chains every fault adds its rules to
      run("ip", ["netns", "exec", r.namespace, "nft", "-f", "-"], [
        "table inet partition {",
        "  chain out { type filter hook output priority 0; policy accept; }",
        "  chain in { type filter hook input priority 0; policy accept; }",
        "}"
      ].join("\n"))
    }
  } catch (e) {
    destroy()
    throw e
  }

  const nft = (i: number, rule: string) => run("ip", ["netns", "exec", runners[i]!.namespace, "nft", "-f", "-"], rule)
  const exec = (i: number, command: ReadonlyArray<string>) => inNs(runners[i]!.namespace, ...command)
  const ports = (list: ReadonlyArray<number>) => `{ ${list.join(", ")} }`

  return {
    id,
    host,
    runners,
    exec,
    cutFrom: (i, list) =>
      nft(i, [
        `add rule inet partition out ip daddr ${host} tcp dport ${ports(list)} drop`,
        `add rule inet partition in ip saddr ${host} tcp sport ${ports(list)} drop`
      ].join("\n")),
    cutFromPeers: (i) => {
      const peers = runners.filter((r) => r.index !== i).map((r) => r.address).join(", ")
      nft(i, [
        `add rule inet partition out ip daddr { ${peers} } drop`,
        `add rule inet partition in ip saddr { ${peers} } drop`
      ].join("\n"))
    },
    lossTo: (i, list, percent) =>
      nft(i, [
        `add rule inet partition out ip daddr ${host} tcp dport ${ports(list)} numgen random mod 100 < ${percent} drop`,
        `add rule inet partition in ip saddr ${host} tcp sport ${ports(list)} numgen random mod 100 < ${percent} drop`
      ].join("\n")),
    heal: (i) => nft(i, "flush chain inet partition out\nflush chain inet partition in"),
    rules: (i) => exec(i, ["nft", "list", "table", "inet", "partition"]),
    destroy
  }
}
