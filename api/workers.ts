import { UnrecoverableError, Worker, type ConnectionOptions } from "bullmq";
import type { Logger } from "./common/logger";
import type { MailDelivery } from "./mail/delivery";
import type { DriftService } from "./services/drift-service";
import type { MailOutboxStore } from "./store/mail-outbox-store";
import type { Metrics } from "./common/metrics";
import type { BillingSync } from "./services/billing-sync";
import { ReconcileFailedError, type Reconciler } from "./services/reconciler";
import type { BackupService } from "./services/backup-service";
import type { NodeMove } from "./services/node-move";
import type { LifecycleJobs } from "./services/lifecycle-jobs";
import type { TenantSleep } from "./services/tenant-sleep";
import type { RestoreDrills } from "./services/restore-drill";
import type { MonitoringWatch } from "./services/monitoring-watch";
import type { UsageMeter } from "./services/usage-meter";
import type { BillingQuarantineStore } from "./store/billing-quarantine-store";
import type { InboxStore } from "./store/inbox-store";
import type { TenantStore } from "./store/tenant-store";
import {
  BILLING_QUEUE,
  DRIFT_QUEUE,
  INBOX_QUEUE,
  MAIL_QUEUE,
  MAINTENANCE_QUEUE,
  RECONCILE_QUEUE,
  TENANT_OPS_QUEUE,
  USAGE_QUEUE,
  type UsageJob,
  type BillingJob,
  type DriftJob,
  type InboxJob,
  type MailJob,
  type MaintenanceJob,
  type TenantOpJob,
  type Queues,
  type ReconcileJob,
} from "./jobs/queues";

export interface WorkerDeps {
  connection: ConnectionOptions;
  prefix?: string;
  queues: Queues;
  reconciler: Reconciler;
  backups: BackupService;
  lifecycle: LifecycleJobs;
  drills: RestoreDrills;
  sleep: TenantSleep;
  usage: UsageMeter;
  monitoringWatch: MonitoringWatch;
  /** Backups and restores at once (each a container reading or writing a tenant's data). */
  /** Moves between nodes: tenant operations like backups and restores. */
  moves: NodeMove;
  backupConcurrency: number;
  billing: BillingSync;
  delivery: MailDelivery;
  drift: DriftService;
  /** Drift checks at once (each a `pulumi refresh --preview-only`). */
  driftConcurrency: number;
  outbox: MailOutboxStore;
  quarantine: BillingQuarantineStore;
  tenants: TenantStore;
  inbox: InboxStore;
  metrics: Metrics;
  logger: Logger;
  reconcileConcurrency: number;
  jobLockMs: number;
  sweepIntervalMs: number;
  /** Errors of the workers' Redis connections (an outage is logged once, not per retry). */
  onRedisError: (err: Error) => void;
}

/**
 * The background side: reconcile, inbox and mail workers, and the sweeper that re-enqueues any
 * tenant whose observed generation lags and any webhook not yet processed, so a lost job or a
 * crash loses nothing. `close()` lets running jobs finish (graceful shutdown).
 */
export class Workers {
  private readonly workers: Worker[];
  private sweeper?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly d: WorkerDeps) {
    const base = { connection: d.connection, prefix: d.prefix ?? "odoo-saas" };
    const reconcile = new Worker<ReconcileJob>(
      RECONCILE_QUEUE,
      (job) => d.reconciler.reconcile(job.data.tenantId),
      {
        ...base,
        concurrency: d.reconcileConcurrency,
        // Engine runs are long: the lock is renewed while the worker lives; a crashed worker's
        // job is found stalled and retried once the lock has lapsed.
        lockDuration: d.jobLockMs,
        stalledInterval: Math.max(1000, Math.floor(d.jobLockMs / 2)),
      },
    );
    reconcile.on("failed", (job, err) => {
      if (!job) return;
      const final =
        err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      d.logger.warn(
        { tenantId: job.data.tenantId, attempt: job.attemptsMade, final, error: err.message },
        "reconcile failed",
      );
      if (!final || (err instanceof ReconcileFailedError && err.locked)) return;
      // Tell operators once, and keep the sweeper from retrying this generation forever.
      const generation = (err as { generation?: number }).generation;
      void d.reconciler
        .gaveUp(job.data.tenantId, generation, err.message)
        .catch((e) => d.logger.error({ err: e }, "giving up on reconcile not recorded"));
    });
    const inbox = new Worker<InboxJob>(INBOX_QUEUE, (job) => d.billing.process(job.data.inboxId), {
      ...base,
      concurrency: 4,
    });
    inbox.on("failed", (job, err) =>
      d.logger.warn(
        { inboxId: job?.data.inboxId, attempt: job?.attemptsMade, error: err.message },
        "webhook processing failed",
      ),
    );
    const mail = new Worker<MailJob>(
      MAIL_QUEUE,
      async (job) => {
        await d.delivery.deliver(job.data.outboxId);
      },
      { ...base, concurrency: 2 },
    );
    mail.on("failed", (job, err) =>
      d.logger.warn(
        { outboxId: job?.data.outboxId, attempt: job?.attemptsMade, error: err.message },
        "mail not sent",
      ),
    );
    const tenantOps = new Worker<TenantOpJob>(
      TENANT_OPS_QUEUE,
      (job) => (job.data.kind === "move" ? d.moves.run(job.data) : d.backups.run(job.data)),
      {
        ...base,
        concurrency: d.backupConcurrency,
        lockDuration: d.jobLockMs,
        stalledInterval: Math.max(1000, Math.floor(d.jobLockMs / 2)),
      },
    );
    tenantOps.on("failed", (job, err) =>
      d.logger.warn(
        {
          tenantId: job?.data.tenantId,
          kind: job?.data.kind,
          attempt: job?.attemptsMade,
          error: err.message,
        },
        "tenant operation (backup, restore, move) failed",
      ),
    );
    const maintenance = new Worker<MaintenanceJob>(
      MAINTENANCE_QUEUE,
      async (job) => {
        const task = job.data.task;
        const run: Record<typeof task, () => Promise<unknown>> = {
          "nightly-backups": async () => ({ tenants: await d.lifecycle.nightly() }),
          "grace-periods": () => d.lifecycle.gracePeriods(),
          "backup-retention": () => d.lifecycle.backupRetention(),
          "repository-check": () => d.lifecycle.check(),
          "drift-checks": async () => ({ tenants: await d.drift.scheduleRound() }),
          "restore-drills": async () => ({ drills: (await d.drills.run()).length }),
          "idle-sleep": () => d.sleep.sweep(),
          "usage-metering": () => d.usage.run(),
          "monitoring-watch": () => d.monitoringWatch.check(),
        };
        const result = await run[task]();
        d.logger.info({ task, result }, "maintenance done");
      },
      { ...base, concurrency: 1 },
    );
    maintenance.on("failed", (job, err) =>
      d.logger.warn({ task: job?.data.task, error: err.message }, "maintenance failed"),
    );
    const drift = new Worker<DriftJob>(DRIFT_QUEUE, (job) => d.drift.check(job.data.tenantId), {
      ...base,
      concurrency: d.driftConcurrency,
      lockDuration: d.jobLockMs,
      stalledInterval: Math.max(1000, Math.floor(d.jobLockMs / 2)),
    });
    drift.on("failed", (job, err) =>
      d.logger.warn(
        { tenantId: job?.data.tenantId, attempt: job?.attemptsMade, error: err.message },
        "drift check failed",
      ),
    );
    const billing = new Worker<BillingJob>(
      BILLING_QUEUE,
      async (job) => {
        const data = job.data;
        if (data.kind === "subscription")
          await d.billing.syncSubscription(data.subscriptionId, data.cause);
        else {
          const entry = await d.quarantine.get(data.key);
          if (entry) await d.billing.retry(entry);
        }
      },
      { ...base, concurrency: 2 },
    );
    billing.on("failed", (job, err) =>
      d.logger.warn({ job: job?.data, error: err.message }, "billing job failed"),
    );
    // One measurement at a time: each is a short agent container on the tenant's node.
    const usage = new Worker<UsageJob>(
      USAGE_QUEUE,
      (job) => d.usage.measureOne(job.data.tenantId),
      {
        ...base,
        concurrency: 1,
      },
    );
    const all = [reconcile, inbox, mail, tenantOps, maintenance, drift, billing, usage];
    for (const w of all) w.on("error", d.onRedisError);
    this.workers = all;
  }

  /** One sweep: re-enqueue lagging tenants and unprocessed webhooks; refresh the queue gauge. */
  async sweep(): Promise<{ tenants: number; webhooks: number }> {
    const lagging = await this.d.tenants.lagging();
    for (const id of lagging) await this.d.queues.enqueueReconcile(id);
    const pending = await this.d.inbox.pending();
    for (const id of pending) await this.d.queues.enqueueInbox(id);
    // Quarantined billing work whose retry is due (one job per attempt).
    for (const q of await this.d.quarantine.due())
      await this.d.queues.enqueueBillingRetry(q.key, q.attempts);
    // Mail whose job went missing (Redis lost it); one still queued or given up is left alone.
    for (const id of await this.d.outbox.stale(10_000)) await this.d.queues.enqueueMail(id);
    for (const [queue, depth] of Object.entries(await this.d.queues.depths()))
      this.d.metrics.queueDepth.set({ queue }, depth);
    return { tenants: lagging.length, webhooks: pending.length };
  }

  startSweeper(): void {
    const tick = () =>
      this.sweep()
        .catch((err) => this.d.logger.warn({ err }, "sweep failed"))
        .finally(() => {
          if (!this.closed) this.sweeper = setTimeout(tick, this.d.sweepIntervalMs);
        });
    void tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearTimeout(this.sweeper);
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
