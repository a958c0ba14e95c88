import type Dockerode from "dockerode";
import type { ContainerLimits } from "../../components/tenant/database-placement";

/** What one engine node offers a container: its CPUs and memory. */
export interface NodeResources {
  id: string;
  hostname: string;
  cpus: number;
  memoryMb: number;
}

/**
 * Why containers with `limits` cannot run on any of `nodes` (Docker refuses a CPU limit above a
 * node's CPUs, and a memory limit above its memory would never be honoured), or undefined when
 * one node takes them. With a constraint (`node.hostname == x`, `node.id == x`: the node holding
 * the tenant's local volumes), only that node counts.
 */
export function placementRefusal(
  plan: string,
  limits: ContainerLimits,
  nodes: NodeResources[],
  constraint?: string,
): string | undefined {
  const pinned = constraint?.match(/^node\.(hostname|id)\s*==\s*(\S+)$/);
  const candidates = pinned
    ? nodes.filter((n) => (pinned[1] === "id" ? n.id : n.hostname) === pinned[2])
    : nodes;
  if (!nodes.length) return undefined; // nothing known: the engine decides
  if (candidates.some((n) => limits.cpus <= n.cpus && limits.memoryMb <= n.memoryMb))
    return undefined;
  const largest = candidates.reduce<NodeResources | undefined>(
    (a, n) => (!a || n.cpus > a.cpus || (n.cpus === a.cpus && n.memoryMb > a.memoryMb) ? n : a),
    undefined,
  );
  const where = pinned ? `the node holding its volumes (${constraint})` : "the largest node";
  const offer = largest
    ? `${where} has ${largest.cpus} CPUs and ${largest.memoryMb} MB (${largest.hostname})`
    : `${where} is not in the cluster`;
  return `plan ${plan} needs ${limits.cpus} CPUs and ${limits.memoryMb} MB per container; ${offer}: add a larger node, or choose another plan`;
}

/**
 * The engine's nodes as it reports them: every ready, active node of a Swarm (when the engine is a
 * manager), else the engine's own host. Read once per `maxAgeMs`.
 */
export class NodeCapacity {
  private readonly docker: Dockerode;
  private cached?: { at: number; nodes: Promise<NodeResources[]> };

  constructor(
    docker?: Dockerode,
    private readonly maxAgeMs = 60_000,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Docker = require("dockerode") as typeof import("dockerode");
    this.docker = docker ?? new Docker();
  }

  nodes(): Promise<NodeResources[]> {
    if (!this.cached || Date.now() - this.cached.at > this.maxAgeMs) {
      const nodes = this.read();
      this.cached = { at: Date.now(), nodes };
      nodes.catch(() => (this.cached = undefined));
    }
    return this.cached.nodes;
  }

  private async read(): Promise<NodeResources[]> {
    const swarm = await this.docker.listNodes().catch(() => undefined); // not a manager
    if (swarm?.length)
      return swarm
        .filter((n) => n.Status?.State === "ready" && n.Spec?.Availability === "active")
        .map((n) => ({
          id: n.ID ?? "",
          hostname: n.Description?.Hostname ?? n.ID ?? "",
          cpus: (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
          memoryMb: Math.floor((n.Description?.Resources?.MemoryBytes ?? 0) / 1024 ** 2),
        }));
    const info = await this.docker.info();
    return [
      {
        id: info.ID ?? "",
        hostname: info.Name ?? "",
        cpus: info.NCPU ?? 0,
        memoryMb: Math.floor((info.MemTotal ?? 0) / 1024 ** 2),
      },
    ];
  }
}
