import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import archiver from "archiver";
import * as tar from "tar-stream";
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

const DAY_MS = 86_400_000;

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
  now: () => Date;
  /** Nightly backups start over this window, each tenant at its own offset. */
  spreadMs: number;
  /** How long the last backups of a deleted tenant are kept. */
  deletedRetentionDays: number;
  /** Share of the repository's data `restic check` reads back, e.g. "5%". */
  checkSubset: string;
}

/** Backups, restores, exports and the data lifecycle's scheduled work. */
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

  /**
   * Odoo's own backup format, streamed: `manifest.json`, `dump.sql` (plain SQL) and `filestore/`
   * of the backup's database, zipped on the fly from the repository (never whole in memory).
   */
  async exportZip(
    tenantId: string,
    backupId?: string,
  ): Promise<{ filename: string; stream: Readable }> {
    const backup = backupId
      ? await this.d.backups.get(backupId)
      : await this.d.backups.latestGood(tenantId);
    if (
      !backup ||
      backup.tenantId !== tenantId ||
      backup.status !== "succeeded" ||
      backup.forgottenAt
    )
      throw new NotFoundError(
        backupId
          ? `a good backup ${backupId} of tenant ${tenantId}`
          : `a good backup of tenant ${tenantId}`,
      );
    const zip = archiver("zip", { zlib: { level: 6 } });
    const manifest = {
      odoo_dump: "1",
      db_name: backup.databaseName,
      version: `${backup.odooVersion}.0`,
      version_info: [Number(backup.odooVersion), 0, 0, "final", 0, ""],
      major_version: `${backup.odooVersion}.0`,
      pg_version: backup.pgVersion,
      modules: backup.modules ?? {},
    };
    const write = async () => {
      zip.append(JSON.stringify(manifest, null, 4), { name: "manifest.json" });
      const sql = await this.d.engine.dumpSql(backup.databaseSnapshot!);
      zip.on("close", () => void sql.cancel());
      await appended(zip, sql.stdout, "dump.sql");
      await sql.done;
      const files = await this.d.engine.dumpFiles(backup.filestoreSnapshot!, backup.databaseName!);
      zip.on("close", () => void files.cancel());
      const extract = tar.extract();
      files.stdout.pipe(extract);
      for await (const entry of extract) {
        const rel = entry.header.name
          .replace(/^\.?\/?/, "")
          .split("/")
          .slice(1)
          .join("/");
        if (entry.header.type !== "file" || !rel) {
          entry.resume();
          continue;
        }
        await appended(zip, entry as unknown as Readable, `filestore/${rel}`);
      }
      await files.done;
      await zip.finalize();
    };
    write().catch((e) => {
      this.d.logger.warn(
        { tenantId, backupId: backup.id, error: (e as Error).message },
        "export failed",
      );
      zip.abort();
      zip.destroy(e as Error);
    });
    const day = backup.startedAt.slice(0, 10);
    return { filename: `${tenantId}_${day}_${backup.id.slice(0, 8)}.zip`, stream: zip };
  }

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

/** A tenant's stable offset in the nightly window (the same every night, spread evenly). */
export function spreadOffset(tenantId: string, windowMs: number): number {
  if (windowMs <= 0) return 0;
  const h = createHash("sha256").update(tenantId).digest().readUInt32BE(0);
  return h % windowMs;
}

/** Appends a stream to the zip and waits until archiver has consumed it. */
function appended(zip: archiver.Archiver, source: Readable, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: archiver.EntryData) => {
      if (e.name !== name) return;
      zip.off("entry", onEntry);
      resolve();
    };
    zip.on("entry", onEntry);
    source.once("error", reject);
    zip.append(source, { name });
  });
}
