import { StackNotFoundError, type TenantStacks } from "../../automation";
import { BackupError } from "../../backup/errors";
import type { BackupReason, TenantBackups } from "../../backup/tenant-backups";
import type { Catalog } from "../../catalog";
import { ConflictError, NotFoundError } from "../common/errors";
import type { ProgressBus } from "../jobs/progress-bus";
import type { Queues, TenantOpJob } from "../jobs/queues";
import type { Logger } from "../common/logger";
import type { Metrics } from "../common/metrics";
import type { BackupRecord, BackupStore } from "../store/backup-store";
import type { Operation, OperationStore } from "../store/operation-store";
import type { AdvisoryLocks } from "../store/advisory-locks";
import type { TenantStore } from "../store/tenant-store";
import type { Tenant } from "../domain/tenant";
import { currentPlacement } from "./change-plan";
import { runtimeRefOf, type TenantRuntime } from "./tenant-runtime";

export interface BackupServiceDeps {
  tenants: TenantStore;
  backups: BackupStore;
  operations: OperationStore;
  stacks: TenantStacks;
  engine: TenantBackups;
  locks: AdvisoryLocks;
  runtime: TenantRuntime;
  queues: Queues;
  progress: ProgressBus;
  metrics: Metrics;
  logger: Logger;
  catalog: Catalog;
}

/**
 * Backups and restores of one tenant: a verified backup (before a change, the final one, on
 * demand), a restore into the tenant or a copy, each an operation under the tenant's lock.
 */
export class BackupService {
  constructor(private readonly d: BackupServiceDeps) {}

  /**
   * Takes a verified backup of a provisioned tenant. The caller holds the tenant's lock. The
   * record says `succeeded` only after both snapshots were read back; on any failure it says
   * `failed` with the reason, and the error is thrown on.
   */
  async take(
    t: Tenant,
    reason: BackupReason,
    onLog?: (line: string) => void,
  ): Promise<BackupRecord | undefined> {
    const location = await this.d.stacks
      .dataLocation(t, currentPlacement(t, this.d.catalog))
      .catch((e) => {
        if (e instanceof StackNotFoundError) return undefined; // removed out of band: nothing left
        throw e;
      });
    if (!location) return undefined; // a stack without a database or volume holds no data
    // Labelled with what runs (a pre-change backup is of the old plan and version).
    const applied = t.outputs ?? {};
    const plan = typeof applied.plan === "string" ? applied.plan : t.spec.plan;
    const odooVersion =
      typeof applied.odooVersion === "string" ? applied.odooVersion : t.spec.odooVersion;
    const record = await this.d.backups.start(t.id, reason, {
      plan,
      odooVersion,
      databaseName: location.database.name,
    });
    const log = this.d.logger.child({ tenantId: t.id, backupId: record.id, reason });
    log.info("backup started");
    // The last good backup of this same database: its dump stands if nothing was written since.
    const last = await this.d.backups.latestGood(t.id);
    const previous =
      last?.databaseSnapshot &&
      last.databaseFingerprint &&
      last.databaseName === location.database.name
        ? { databaseSnapshot: last.databaseSnapshot, fingerprint: last.databaseFingerprint }
        : undefined;
    try {
      const result = await this.d.engine.backup(
        location,
        { id: record.id, reason, plan, odooVersion },
        { onLog, previous },
      );
      const done = await this.d.backups.succeed(record.id, result);
      this.d.metrics.backups.inc({ reason, result: "succeeded" });
      this.d.metrics.backupDuration.observe(result.durationMs / 1000);
      log.info(
        {
          durationMs: result.durationMs,
          bytesAdded: result.bytesAdded,
          databaseReused: result.databaseReused,
        },
        "backup succeeded and verified",
      );
      return done;
    } catch (e) {
      const message = (e as Error).message;
      await this.d.backups.fail(record.id, message);
      this.d.metrics.backups.inc({ reason, result: "failed" });
      log.warn({ error: message }, "backup failed");
      throw e;
    }
  }

  /** The final backup before a tenant's data goes: a fresh one, or why none is needed. */
  async finalBackup(
    t: Tenant,
    reason: "pre-destroy" | "pre-terminate",
    onLog?: (l: string) => void,
  ) {
    if (reason === "pre-destroy" && t.skipFinalBackup)
      return "skipped by the operator (skipBackup)";
    try {
      return (await this.take(t, reason, onLog))?.id ?? "none: the stack holds no tenant data";
    } catch (e) {
      // A stopped tenant's data cannot have changed since it stopped: a verified backup taken
      // since then serves (a dedicated server is down with its tenant and cannot be dumped).
      const since = t.terminatedAt ? new Date(t.terminatedAt) : undefined;
      const kept =
        since && (await this.d.backups.latestGood(t.id, new Date(since.getTime() - 60_000)));
      if (reason === "pre-destroy" && t.observedState === "terminated" && kept) return kept.id;
      throw new BackupError(
        `not ${reason === "pre-destroy" ? "destroyed" : "terminated"}: the final backup failed: ${(e as Error).message}`,
      );
    }
  }

  async list(tenantId: string): Promise<BackupRecord[]> {
    return this.d.backups.list(tenantId);
  }

  /** An on-demand backup: recorded as an operation now, run by a worker under the tenant's lock. */
  async requestBackup(tenantId: string): Promise<Operation> {
    const t = await this.provisioned(tenantId);
    const op = await this.d.operations.enqueue(t.id, "backup", { reason: "manual" });
    await this.d.queues.enqueueTenantOp({
      operationId: op.id,
      tenantId: t.id,
      kind: "backup",
      reason: "manual",
    });
    return op;
  }

  /**
   * Restores a backup (the newest good one by default) into the tenant itself or into another
   * tenant id (created as a copy of the source's plan and customer when it does not exist).
   */
  async requestRestore(
    tenantId: string,
    input: { backupId?: string; targetTenantId?: string },
  ): Promise<Operation> {
    const backup = input.backupId
      ? await this.d.backups.get(input.backupId)
      : await this.d.backups.latestGood(tenantId);
    if (!backup || backup.tenantId !== tenantId)
      throw new NotFoundError(
        input.backupId
          ? `backup ${input.backupId} of tenant ${tenantId}`
          : `a good backup of tenant ${tenantId}`,
      );
    if (backup.status !== "succeeded" || backup.forgottenAt)
      throw new ConflictError(
        `backup ${backup.id} is ${backup.forgottenAt ? "no longer in the repository" : backup.status}`,
      );
    const target = input.targetTenantId ?? tenantId;
    const existing = await this.d.tenants.get(target);
    if (existing?.desiredState === "deleted" || existing?.desiredState === "terminated")
      throw new ConflictError(
        `tenant ${target} is ${existing.desiredState}: restore into a running tenant`,
      );
    if (!existing && target === tenantId) throw new NotFoundError(`tenant ${tenantId}`);
    const op = await this.d.operations.enqueue(target, "restore", {
      backupId: backup.id,
      source: tenantId,
    });
    await this.d.queues.enqueueTenantOp({
      operationId: op.id,
      tenantId: target,
      kind: "restore",
      backupId: backup.id,
      sourceTenantId: tenantId,
    });
    return op;
  }

  /** A backup or restore job, under the tenant's lock, with progress on the operation's stream. */
  async run(job: TenantOpJob): Promise<void> {
    if (job.kind === "restore") await this.ensureCloneTarget(job);
    await this.d.locks.withLock(job.tenantId, async () => {
      const t = await this.provisioned(job.tenantId);
      const op = await this.d.operations.start(
        t.id,
        job.kind,
        t.observedGeneration,
        job.operationId,
      );
      const onLog = (message: string) =>
        void this.d.progress
          .publish(op.id, { kind: "diagnostic", severity: "info", message })
          .catch(() => undefined);
      try {
        const details =
          job.kind === "backup"
            ? { backupId: await this.backupId(t, job.reason ?? "manual", onLog) }
            : await this.restore(t, job, op.id, onLog);
        await this.d.operations.finish(op.id, "succeeded", { details });
        this.d.metrics.operations.inc({ type: job.kind, result: "succeeded" });
        void this.d.progress.publish(op.id, { kind: "operation-finished", status: "succeeded" });
      } catch (e) {
        const error = (e as Error).message;
        await this.d.operations.finish(op.id, "failed", { error });
        this.d.metrics.operations.inc({ type: job.kind, result: "failed" });
        void this.d.progress.publish(op.id, {
          kind: "operation-finished",
          status: "failed",
          error,
        });
        throw e;
      }
    });
  }

  private async backupId(t: Tenant, reason: BackupReason, onLog: (l: string) => void) {
    const b = await this.take(t, reason, onLog);
    if (!b) throw new ConflictError(`tenant ${t.id}'s stack holds no database or filestore`);
    return b.id;
  }

  private async restore(
    t: Tenant,
    job: TenantOpJob,
    operationId: string,
    onLog: (l: string) => void,
  ) {
    const backup = await this.d.backups.get(job.backupId!);
    if (!backup?.databaseSnapshot || !backup.filestoreSnapshot || !backup.databaseName)
      throw new BackupError(`backup ${job.backupId} has no snapshots`);
    const location = await this.d.stacks.dataLocation(t, currentPlacement(t, this.d.catalog));
    if (!location) throw new ConflictError(`tenant ${t.id}'s stack holds no database or filestore`);
    const runtime = runtimeRefOf(t);
    const wasRunning = runtime ? await this.d.runtime.stop(runtime) : false;
    onLog(`runtime ${wasRunning ? "stopped" : "was not running"}; restoring backup ${backup.id}`);
    try {
      await this.d.engine.restore(
        { databaseSnapshot: backup.databaseSnapshot, filestoreSnapshot: backup.filestoreSnapshot },
        backup.databaseName,
        location,
        operationId,
        { onLog },
      );
    } finally {
      // The instance comes back whatever happened: on failure, with the data it had.
      // Also when a restore cut short by a crash (runtime already stopped) is run again.
      const meantToRun = t.desiredState === "active" && t.observedState === "active";
      if (runtime && (wasRunning || meantToRun)) await this.d.runtime.start(runtime);
    }
    this.d.logger.info({ tenantId: t.id, backupId: backup.id, operationId }, "restore succeeded");
    return { backupId: backup.id, source: job.sourceTenantId };
  }

  /** A clone's target tenant is created like its source and provisioned before the restore. */
  private async ensureCloneTarget(job: TenantOpJob): Promise<void> {
    if (!job.sourceTenantId || job.sourceTenantId === job.tenantId) return;
    let target = await this.d.tenants.get(job.tenantId);
    if (!target) {
      const source = await this.d.tenants.get(job.sourceTenantId);
      if (!source) throw new NotFoundError(`tenant ${job.sourceTenantId}`);
      target =
        (await this.d.tenants.insertNew({
          id: job.tenantId,
          customerId: source.customerId,
          spec: { ...source.spec, subdomain: undefined, customDomains: [] },
          desiredState: "active",
          source: "admin",
        })) ?? (await this.d.tenants.get(job.tenantId));
      await this.d.queues.enqueueReconcile(job.tenantId);
    }
    if (
      !target ||
      target.observedGeneration < target.desiredGeneration ||
      target.observedState !== "active"
    )
      throw new BackupError(
        `waiting for tenant ${job.tenantId} to be provisioned before restoring into it`,
      );
  }

  private async provisioned(tenantId: string): Promise<Tenant> {
    const t = await this.d.tenants.get(tenantId);
    if (!t) throw new NotFoundError(`tenant ${tenantId}`);
    if (t.observedGeneration === 0 || t.observedState === "deleted" || t.observedState === null)
      throw new ConflictError(
        `tenant ${tenantId} has no provisioned data to back up or restore into`,
      );
    return t;
  }
}
