import type { Catalog } from "../../catalog";
import { cappedLimits, type ContainerLimits } from "../../components/tenant/database-placement";
import type { Tenant } from "../domain/tenant";
import type { TenantStore } from "../store/tenant-store";
import type { NodeResources } from "./node-capacity";

/** A tenant node as placement sees it: whether it can take the plan, and its tenants. */
export interface NodeCandidate {
  hostname: string;
  /** Ready and active (not drained or paused) in the Swarm. */
  available: boolean;
  cpus: number;
  memoryMb: number;
  tenants: number;
}

/**
 * The node a new tenant goes to: the available node that fits its limits and has the fewest
 * tenants (then by name, so a choice is repeatable); or why none can take it.
 */
export function chooseNode(
  plan: string,
  limits: ContainerLimits,
  candidates: NodeCandidate[],
): { node: string } | { refusal: string } {
  const fitting = candidates
    .filter((n) => n.available && limits.cpus <= n.cpus && limits.memoryMb <= n.memoryMb)
    .sort((a, b) => a.tenants - b.tenants || a.hostname.localeCompare(b.hostname));
  if (fitting.length) return { node: fitting[0].hostname };
  const seen = candidates.map(
    (n) =>
      `${n.hostname}: ${n.available ? `${n.cpus} CPUs, ${n.memoryMb} MB` : "not ready or drained"}`,
  );
  return {
    refusal: `no tenant node can take plan ${plan} (${limits.cpus} CPUs, ${limits.memoryMb} MB per container): ${seen.join("; ") || "none listed"}`,
  };
}

/** The listed tenant nodes as placement candidates: the ready ones with their resources and tenants. */
export function nodeCandidates(
  hostnames: string[],
  ready: NodeResources[],
  tenantsPerNode: Map<string, number>,
): NodeCandidate[] {
  return hostnames.map((hostname) => {
    const n = ready.find((r) => r.hostname === hostname);
    return {
      hostname,
      available: !!n,
      cpus: n?.cpus ?? 0,
      memoryMb: n?.memoryMb ?? 0,
      tenants: tenantsPerNode.get(hostname) ?? 0,
    };
  });
}

export class NoTenantNodeError extends Error {
  override readonly name = "NoTenantNodeError";
}

/**
 * Places new tenants on the platform's tenant nodes (swarmTenantNodes), once, before their first
 * run: the node holds their local volumes from then on. A platform without tenant nodes places
 * nobody (one host, or every tenant on the platform's volume node).
 */
export class TenantNodes {
  constructor(
    private readonly d: {
      tenants: TenantStore;
      catalog: Catalog;
      /** The platform's tenant nodes by hostname (its tenantSettings output). */
      tenantNodes: () => Promise<Record<string, string> | undefined>;
      tenantLimitCap: () => Promise<Partial<ContainerLimits> | undefined>;
      /** The Swarm's ready, active nodes. */
      nodes: () => Promise<NodeResources[]>;
    },
  ) {}

  /**
   * The node the tenant is on after this; undefined when it is on the platform's volume node: the
   * platform has no tenant nodes, or the tenant ran before it had (its data is there; only a move
   * takes it elsewhere).
   */
  async place(t: Pick<Tenant, "id" | "node" | "spec" | "appliedSpec" | "outputs">) {
    if (t.node) return t.node;
    if (t.appliedSpec || t.outputs) return undefined;
    const listed = Object.keys((await this.d.tenantNodes()) ?? {});
    if (!listed.length) return undefined;
    const plan = this.d.catalog.plan(t.spec.plan);
    if (!plan) throw new NoTenantNodeError(`unknown plan ${t.spec.plan}`);
    const [ready, counts, cap] = await Promise.all([
      this.d.nodes(),
      this.d.tenants.tenantsPerNode(),
      this.d.tenantLimitCap(),
    ]);
    const choice = chooseNode(
      plan.id,
      cappedLimits(plan, cap),
      nodeCandidates(listed, ready, counts),
    );
    if ("refusal" in choice) throw new NoTenantNodeError(choice.refusal);
    return this.d.tenants.placeOnNode(t.id, choice.node);
  }
}
