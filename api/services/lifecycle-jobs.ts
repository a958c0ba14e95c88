import type { TenantBackups } from "../../backup/tenant-backups";
import type { Catalog } from "../../catalog";
import type { Logger } from "../common/logger";
import type { Queues } from "../jobs/queues";
import type { BackupStore } from "../store/backup-store";
import type { TenantStore } from "../store/tenant-store";
import { spreadOffset } from "./spread-offset";

const DAY_MS = 86_400_000;

/**
 * The data lifecycle's scheduled work (BullMQ job schedulers): tonight's backups, grace periods
 * that end, backup retention, and the repository check.
 */
export class LifecycleJobs {
  constructor(
    private readonly d: {
      tenants: TenantStore;
      backups: BackupStore;
      engine: TenantBackups;
      queues: Queues;
      logger: Logger;
      catalog: Catalog;
      now: () => Date;
      /** Nightly backups start over this window, each tenant at its own offset. */
      spreadMs: number;
      /** How long the last backups of a deleted tenant are kept. */
      deletedRetentionDays: number;
      /** Share of the repository's data `restic check` reads back, e.g. "5%". */
      checkSubset: string;
    },
  ) {}

  /** Enqueues tonight's backups: every running tenant, spread over the window, limited by workers. */
  async nightly(): Promise<number> {
    const day = this.d.now().toISOString().slice(0, 10);
    const tenants = (await this.d.tenants.list()).filter(
      (t) => t.observedState === "active" && t.desiredState === "active",
    );
    for (const t of tenants)
      await this.d.queues.enqueueScheduledBackup(t.id, day, spreadOffset(t.id, this.d.spreadMs));
    this.d.logger.info({ tenants: tenants.length, day }, "nightly backups enqueued");
    return tenants.length;
  }

  /**
   * Terminated tenants past their grace period are deleted (their destroy takes the final backup
   * first), and databases a move left behind past theirs are dropped from their stacks. Hourly: a
   * grace period ends within the hour of its date.
   */
  async gracePeriods(): Promise<{ deleted: string[]; retiredDropped: string[] }> {
    const deleted: string[] = [];
    for (const t of await this.d.tenants.pastRetention(this.d.now())) {
      const { tenant, changed } = await this.d.tenants.setDesired({
        id: t.id,
        customerId: t.customerId,
        spec: t.spec,
        desiredState: "deleted",
        source: t.source,
      });
      if (!changed) continue;
      deleted.push(tenant.id);
      await this.d.queues.enqueueReconcile(tenant.id);
      this.d.logger.info(
        { tenantId: t.id, dataKeptUntil: t.dataKeptUntil },
        "grace period over: deleting",
      );
    }
    const retiredDropped = await this.d.tenants.dropRetiredDatabases(this.d.now());
    for (const id of retiredDropped) {
      await this.d.queues.enqueueReconcile(id);
      this.d.logger.info({ tenantId: id }, "a moved database's retention is over: dropping it");
    }
    return { deleted, retiredDropped };
  }

  /**
   * restic's retention per tenant by its plan's `backupRetention`; the last backups of tenants
   * deleted longer ago than the deleted-tenant retention are dropped; then one prune. Daily, after
   * the nightly window (forget and prune take the repository's exclusive lock).
   */
  async backupRetention(): Promise<{ forgotten: number }> {
    let forgotten = 0;
    for (const t of await this.d.tenants.list()) {
      if (t.desiredState === "deleted") continue;
      const plan = this.d.catalog.plan(t.spec.plan);
      if (!plan || !(await this.d.backups.latestGood(t.id))) continue;
      forgotten += await this.d.backups.forgotten(
        await this.d.engine.forget(t.id, plan.backupRetention),
      );
    }
    const before = new Date(this.d.now().getTime() - this.d.deletedRetentionDays * DAY_MS);
    const expired = await this.d.backups.expiredOfDeleted(before);
    if (expired.snapshots.length) {
      await this.d.engine.forgetSnapshots(expired.snapshots);
      forgotten += await this.d.backups.forgotten(expired.snapshots);
    }
    if (forgotten) await this.d.engine.prune();
    return { forgotten };
  }

  /** `restic check`, reading back a share of the data. */
  check(): Promise<void> {
    return this.d.engine.check(this.d.checkSubset);
  }
}
