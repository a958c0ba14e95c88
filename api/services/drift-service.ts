import type { TenantStacks } from "../../automation";
import type { Queues } from "../jobs/queues";
import type { Logger } from "../common/logger";
import type { Metrics } from "../common/metrics";
import type { AdvisoryLocks } from "../store/advisory-locks";
import type { TenantStore } from "../store/tenant-store";
import type { DriftedResource } from "../domain/tenant";
import { spreadOffset } from "./spread-offset";

export interface DriftServiceDeps {
  tenants: TenantStore;
  stacks: TenantStacks;
  queues: Queues;
  locks: AdvisoryLocks;
  metrics: Metrics;
  logger: Logger;
  now: () => Date;
  /** The scheduled round's checks start spread over this window (each tenant at its own offset). */
  spreadMs: number;
}

/**
 * Finds tenants' resources changed or deleted out of band (`pulumi refresh --preview-only`) and
 * records what it found. It never changes a stack: an operator decides (`fleet drift --fix`).
 */
export class DriftService {
  constructor(private readonly d: DriftServiceDeps) {}

  /** Today's round: one check per tenant with a stack, spread over the window. */
  async scheduleRound(): Promise<number> {
    const day = this.d.now().toISOString().slice(0, 10);
    const ids = await this.d.tenants.withStacks();
    for (const id of ids)
      await this.d.queues.enqueueDriftCheck(id, day, spreadOffset(id, this.d.spreadMs));
    this.d.logger.info({ tenants: ids.length, day }, "drift checks enqueued");
    return ids.length;
  }

  async requestCheck(tenantId: string): Promise<void> {
    await this.d.queues.enqueueDriftCheck(tenantId, "now");
  }

  /** One tenant's check, under its lock (never while it is applied, backed up or restored). */
  async check(tenantId: string): Promise<DriftedResource[] | undefined> {
    return this.d.locks.withLock(tenantId, async () => {
      const t = await this.d.tenants.get(tenantId);
      if (!t || !t.observedState || t.observedState === "deleted") return undefined;
      try {
        const resources = (await this.d.stacks.drift(tenantId)).map((c) => ({
          type: c.type,
          name: c.name,
          op: c.op,
          changedProperties: c.changedProperties,
        }));
        await this.d.tenants.recordDrift(tenantId, resources);
        this.d.metrics.driftChecks.inc({ result: resources.length ? "drifted" : "clean" });
        if (resources.length)
          this.d.logger.warn(
            { tenantId, resources: resources.map((r) => `${r.op} ${r.name}`) },
            "drift: resources changed out of band",
          );
        return resources;
      } catch (e) {
        this.d.metrics.driftChecks.inc({ result: "failed" });
        throw e;
      }
    });
  }
}
