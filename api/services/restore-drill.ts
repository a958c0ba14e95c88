import type { TenantStacks } from "../../automation";
import type { TenantBackups } from "../../backup/tenant-backups";
import type { Catalog } from "../../catalog";
import type { Logger } from "../common/logger";
import type { Metrics } from "../common/metrics";
import type { BackupStore } from "../store/backup-store";
import type { DrillRecord, RestoreDrillStore } from "../store/restore-drill-store";
import type { TenantStore } from "../store/tenant-store";
import { currentPlacement } from "./change-plan";

/**
 * The daily restore drill, the check hosting peers do by hand: the latest verified backup of a
 * few tenants (round-robin, the ones drilled longest ago first) restored into a scratch database
 * on the tenant's server and a scratch volume on its node, then checked: the database opens with
 * its tables (and Odoo's installed modules, as the backup recorded them), and as many files come
 * back as the backup holds. Nothing of the tenant's own is touched, so no lock is taken; the
 * scratch copies are dropped whatever happens. Each drill is recorded; a failure is alerted on
 * (RestoreDrillFailed), and so is a fleet no drill has proven for 8 days (RestoreDrillStale).
 */
export class RestoreDrills {
  constructor(
    private readonly d: {
      tenants: TenantStore;
      backups: BackupStore;
      drills: RestoreDrillStore;
      stacks: TenantStacks;
      engine: TenantBackups;
      metrics: Metrics;
      logger: Logger;
      catalog: Catalog;
      /** Tenants drilled per run. */
      perRun: number;
    },
  ) {}

  /** Drills the next tenants in turn; one failing does not stop the others. */
  async run(): Promise<DrillRecord[]> {
    const done: DrillRecord[] = [];
    for (const id of await this.d.drills.nextTenants(this.d.perRun)) {
      const drill = await this.drill(id);
      if (drill) done.push(drill);
    }
    this.d.logger.info(
      { drilled: done.length, failed: done.filter((x) => x.status === "failed").length },
      "restore drills done",
    );
    return done;
  }

  private async drill(tenantId: string): Promise<DrillRecord | undefined> {
    const t = await this.d.tenants.get(tenantId);
    const backup = await this.d.backups.latestGood(tenantId);
    if (!t || !backup) return undefined; // deleted, or its backups forgotten, since it was picked
    const record = await this.d.drills.start(tenantId, backup.id);
    const log = this.d.logger.child({ tenantId, backupId: backup.id, drillId: record.id });
    try {
      if (!backup.databaseSnapshot || !backup.filestoreSnapshot)
        throw new Error(`backup ${backup.id} has no snapshots`);
      const location = await this.d.stacks.dataLocation(t, currentPlacement(t, this.d.catalog));
      if (!location) throw new Error(`tenant ${tenantId}'s stack holds no database or filestore`);
      const result = await this.d.engine.drill(
        { databaseSnapshot: backup.databaseSnapshot, filestoreSnapshot: backup.filestoreSnapshot },
        `drill_${record.id.replace(/-/g, "").slice(0, 16)}`,
        location,
      );
      const details = {
        ...result,
        backupFiles: backup.filestoreEntries,
        backupModules: backup.modules ? Object.keys(backup.modules).length : null,
      };
      const problems = [
        result.tables > 0 ? "" : "the restored database has no tables",
        result.files === result.snapshotFiles
          ? ""
          : `${result.files} files restored of the ${result.snapshotFiles} the snapshot lists`,
        backup.filestoreEntries === null || result.files === backup.filestoreEntries
          ? ""
          : `${result.files} files restored, the backup recorded ${backup.filestoreEntries}`,
        details.backupModules === null || result.modules === details.backupModules
          ? ""
          : `${result.modules} modules installed in the copy, the backup recorded ${details.backupModules}`,
      ].filter(Boolean);
      if (problems.length) throw new DrillCheckError(problems.join("; "), details);
      const done = await this.d.drills.finish(record.id, { status: "succeeded", details });
      this.d.metrics.restoreDrills.inc({ result: "succeeded" });
      log.info({ ...result }, "restore drill succeeded");
      return done;
    } catch (e) {
      const error = (e as Error).message;
      this.d.metrics.restoreDrills.inc({ result: "failed" });
      log.warn({ error }, "restore drill failed");
      return this.d.drills.finish(record.id, {
        status: "failed",
        error,
        details: e instanceof DrillCheckError ? e.details : undefined,
      });
    }
  }
}

/** The copy restored, but not as the backup recorded it. */
class DrillCheckError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}
