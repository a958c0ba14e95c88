import type { Catalog } from "../../catalog";
import {
  type PoolerSizing,
  sharedPostgresAdmits,
} from "../../components/platform/shared-postgres-capacity";
import { cappedLimits, type ContainerLimits } from "../../components/tenant/database-placement";
import type { Logger } from "../common/logger";
import type { TenantStore } from "../store/tenant-store";
import { placementRefusal, type NodeResources } from "./node-capacity";

/** What the platform says about where tenants run (its `tenantSettings` output). */
export interface PlacementSettings {
  /** A development platform's cap on tenants' limits. */
  tenantLimitCap?: Partial<ContainerLimits>;
  /** Swarm with local volumes: the node they are on. */
  swarmVolumeConstraint?: string;
  /** Whether filestores are local volumes (pinning tenants to the volume node on Swarm). */
  localVolumes: boolean;
}

/**
 * Whether the platform can run a tenant on a plan, asked before billing or an operator acts on it
 * (a new tenant, or a plan change), so that a plan the hosts cannot run is refused up front rather
 * than failing at the engine:
 *  - the shared PostgreSQL server must have room for every tenant's connection limit;
 *  - one node must offer the plan's CPU and memory limits (within the platform's cap).
 * What cannot be read (no platform stack yet, the engine away) refuses nothing; it is warned once:
 * the engine still refuses what it cannot run, and the reconcile reports it.
 */
export class TenantAdmission {
  private readonly warned = new Set<string>();

  constructor(
    private readonly d: {
      tenants: TenantStore;
      catalog: Catalog;
      /** The server's max_connections (config, else the platform stack's output). */
      maxConnections: () => Promise<number | undefined>;
      /** The platform's pooler, when tenants connect through one (platform stack's output). */
      pooler: () => Promise<PoolerSizing | undefined>;
      placement: () => Promise<PlacementSettings | undefined>;
      nodes: () => Promise<NodeResources[]>;
      logger: Logger;
    },
  ) {}

  /** Why `tenantId` may not be on `plan`, or undefined when it may. */
  async refusal(change: { tenantId: string; plan: string }): Promise<string | undefined> {
    return (await this.nodeRefusal(change.plan)) ?? (await this.connectionRefusal(change));
  }

  private async nodeRefusal(planId: string): Promise<string | undefined> {
    const plan = this.d.catalog.plan(planId);
    if (!plan) return undefined;
    const [settings, nodes] = await Promise.all([
      this.d.placement().catch(() => undefined),
      this.d.nodes().catch(() => undefined),
    ]);
    if (!settings) return this.unknown("no platform stack to read: CPU and memory");
    if (!nodes) return this.unknown("the engine's nodes could not be read: CPU and memory");
    const limits = cappedLimits(plan, settings.tenantLimitCap);
    const pinned =
      settings.swarmVolumeConstraint &&
      (settings.localVolumes || plan.database.placement === "dedicated")
        ? settings.swarmVolumeConstraint
        : undefined;
    return placementRefusal(plan.id, limits, nodes, pinned);
  }

  private async connectionRefusal(change: {
    tenantId: string;
    plan: string;
  }): Promise<string | undefined> {
    const max = await this.d.maxConnections().catch(() => undefined);
    if (max === undefined)
      return this.unknown("shared PostgreSQL max_connections unknown: connections");
    const held = (await this.d.tenants.list())
      .filter((t) => t.desiredState !== "deleted")
      .map((t) => ({ id: t.id, plan: t.spec.plan }));
    const pooler = await this.d.pooler().catch(() => undefined);
    const verdict = sharedPostgresAdmits(this.d.catalog, max, held, change, pooler);
    return verdict.ok ? undefined : verdict.reason;
  }

  private unknown(what: string): undefined {
    if (!this.warned.has(what)) this.d.logger.warn(`${what} admission not checked`);
    this.warned.add(what);
    return undefined;
  }
}
