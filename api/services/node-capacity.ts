import type Dockerode from "dockerode";
import { NotFoundError } from "../common/errors";
import type { ContainerLimits } from "../../components/tenant/database-placement";

/** The node label of a node being drained by the API (odoo-saas nodes drain). */
export const DRAINING_LABEL = "odoo-saas.draining";

const STATES_MAX_AGE_MS = 2_000;

type NodeSpec = { Labels?: Record<string, string>; Availability?: string; [k: string]: unknown };

/**
 * A Swarm node as its manager sees it: `ready` or `down`…, `active`, `pause` or `drain`, and
 * whether the API is draining it.
 */
export interface NodeState {
  state: string;
  availability: string;
  draining: boolean;
}

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
  private cachedStates?: { at: number; states: Promise<Map<string, NodeState>> };

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
        .filter(
          (n) =>
            n.Status?.State === "ready" &&
            n.Spec?.Availability === "active" &&
            n.Spec?.Labels?.[DRAINING_LABEL] !== "true",
        )
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

  /**
   * Marks a node as being drained (the label DRAINING_LABEL): no new tenant is placed there or
   * moved there, while everything on it runs on. (Swarm's own `pause` would also refuse the
   * network attachments its backup agents need.)
   */
  markDraining(hostname: string): Promise<void> {
    return this.update(hostname, (spec) => ({
      ...spec,
      Labels: { ...spec.Labels, [DRAINING_LABEL]: "true" },
    }));
  }

  /** Drains a node in Swarm (its tasks are moved off), its draining mark removed. */
  drain(hostname: string): Promise<void> {
    return this.update(hostname, (spec) => {
      const labels = { ...spec.Labels };
      delete labels[DRAINING_LABEL];
      return { ...spec, Labels: labels, Availability: "drain" };
    });
  }

  private async update(hostname: string, change: (spec: NodeSpec) => NodeSpec): Promise<void> {
    const node = (await this.docker.listNodes()).find((n) => n.Description?.Hostname === hostname);
    if (!node) throw new NotFoundError(`node ${hostname} in the Swarm`);
    await this.docker
      .getNode(node.ID!)
      .update({ version: node.Version?.Index, ...change(node.Spec ?? {}) });
    this.cached = undefined;
    this.cachedStates = undefined;
  }

  /**
   * The node states read at most `STATES_MAX_AGE_MS` ago: tenant views and lists show them, and a
   * page of views must not cost a Swarm query each.
   */
  recentStates(): Promise<Map<string, NodeState>> {
    if (!this.cachedStates || Date.now() - this.cachedStates.at > STATES_MAX_AGE_MS)
      this.cachedStates = { at: Date.now(), states: this.states() };
    return this.cachedStates.states;
  }

  /**
   * Every Swarm node's state by hostname, as the engine has it now (empty when the engine is no
   * Swarm manager).
   */
  async states(): Promise<Map<string, NodeState>> {
    const nodes = await this.docker.listNodes().catch(() => []);
    return new Map(
      nodes.map((n) => [
        n.Description?.Hostname ?? n.ID ?? "",
        {
          state: n.Status?.State ?? "unknown",
          availability: n.Spec?.Availability ?? "unknown",
          draining: n.Spec?.Labels?.[DRAINING_LABEL] === "true",
        },
      ]),
    );
  }
}
