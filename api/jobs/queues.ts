import { Queue, type ConnectionOptions } from "bullmq";

export const RECONCILE_QUEUE = "reconcile";
export const INBOX_QUEUE = "inbox";
export const MAIL_QUEUE = "mail";
export const TENANT_OPS_QUEUE = "tenant-ops";
export const MAINTENANCE_QUEUE = "maintenance";
export const USAGE_QUEUE = "usage";
export const DRIFT_QUEUE = "drift";
export const BILLING_QUEUE = "billing";

export interface ReconcileJob {
  tenantId: string;
}
export interface InboxJob {
  inboxId: string;
}
/** A backup or restore of one tenant (its operation row exists; scheduled backups create theirs). */
export interface TenantOpJob {
  operationId?: string;
  tenantId: string;
  kind: "backup" | "restore" | "move";
  reason?: "manual" | "scheduled";
  /** A move's target node, and whether its files come from the last backup (source lost). */
  node?: string;
  fromBackup?: boolean;
  backupId?: string;
  sourceTenantId?: string;
}
export type MaintenanceTask =
  | "nightly-backups"
  | "grace-periods"
  | "backup-retention"
  | "repository-check"
  | "drift-checks"
  | "restore-drills"
  | "idle-sleep"
  | "usage-metering"
  | "monitoring-watch";
/** Measure one tenant's usage (api/services/usage-meter.ts). */
export interface UsageJob {
  tenantId: string;
}
/** Check one tenant's stack for drift (resources changed out of band). */
export interface DriftJob {
  tenantId: string;
}
/**
 * Billing work of its own: a quarantined unit's retry (by its key), or a subscription read again
 * when it starts.
 */
export type BillingJob =
  { kind: "retry"; key: string } | { kind: "subscription"; subscriptionId: string; cause: string };
export interface MaintenanceJob {
  task: MaintenanceTask;
}
/** Send the outbox's mail `outboxId` (the mail itself lives in PostgreSQL, not in Redis). */
export interface MailJob {
  outboxId: string;
}

/** Waits at most a second for a job to be added; its failure is the sweeper's to make up for. */
async function withinASecond(added: Promise<void>): Promise<void> {
  await Promise.race([
    added.catch(() => undefined),
    new Promise((r) => setTimeout(r, 1000).unref()),
  ]);
}

/** The durable queues (Redis, BullMQ) and the one way each job is added. */
export class Queues {
  readonly reconcile: Queue<ReconcileJob>;
  readonly inbox: Queue<InboxJob>;
  readonly mail: Queue<MailJob>;
  readonly tenantOps: Queue<TenantOpJob>;
  readonly maintenance: Queue<MaintenanceJob>;
  readonly drift: Queue<DriftJob>;
  readonly billing: Queue<BillingJob>;
  readonly usage: Queue<UsageJob>;

  constructor(
    connection: ConnectionOptions,
    prefix = "odoo-saas",
    onError: (err: Error) => void = () => undefined,
  ) {
    const opts = { connection, prefix };
    this.reconcile = new Queue<ReconcileJob>(RECONCILE_QUEUE, opts);
    this.inbox = new Queue<InboxJob>(INBOX_QUEUE, opts);
    this.mail = new Queue<MailJob>(MAIL_QUEUE, opts);
    this.tenantOps = new Queue<TenantOpJob>(TENANT_OPS_QUEUE, opts);
    this.maintenance = new Queue<MaintenanceJob>(MAINTENANCE_QUEUE, opts);
    this.drift = new Queue<DriftJob>(DRIFT_QUEUE, opts);
    this.billing = new Queue<BillingJob>(BILLING_QUEUE, opts);
    this.usage = new Queue<UsageJob>(USAGE_QUEUE, opts);
    for (const q of this.all()) q.on("error", onError);
  }

  private all() {
    return [
      this.reconcile,
      this.inbox,
      this.mail,
      this.tenantOps,
      this.maintenance,
      this.drift,
      this.billing,
      this.usage,
    ];
  }

  async enqueueTenantOp(job: TenantOpJob): Promise<void> {
    await this.tenantOps.add(job.kind, job, {
      jobId: `op-${job.operationId}`,
      // A restore into a new tenant waits for it to be provisioned: retried for ~10 minutes.
      attempts: job.kind === "restore" ? 60 : 4,
      backoff: { type: "fixed", delay: 10_000 },
      removeOnComplete: true,
      removeOnFail: 1000,
    });
  }

  /** Tonight's backup of one tenant, at its offset in the window; one per tenant and day. */
  async enqueueScheduledBackup(tenantId: string, day: string, delayMs: number): Promise<void> {
    await this.tenantOps.add(
      "backup",
      { tenantId, kind: "backup", reason: "scheduled" },
      {
        jobId: `scheduled-${tenantId}-${day}`,
        delay: delayMs,
        attempts: 3,
        backoff: { type: "exponential", delay: 60_000 },
        removeOnComplete: { age: 3 * 86400 },
        removeOnFail: 1000,
      },
    );
  }

  /** One tenant's measurement in a metering run (`run`), at its offset in the window; once per run. */
  async enqueueUsageMeasurement(tenantId: string, run: string, delayMs: number): Promise<void> {
    await this.usage.add(
      "measure",
      { tenantId },
      {
        jobId: `usage-${tenantId}-${run}`,
        delay: delayMs,
        removeOnComplete: { age: 86400 },
        removeOnFail: 1000,
      },
    );
  }

  /**
   * A drift check of the tenant after `delayMs`; `round` (a day, or "now") makes one job per
   * tenant and round: a check asked for while one waits is the same check.
   */
  async enqueueDriftCheck(tenantId: string, round: string, delayMs = 0): Promise<void> {
    await this.drift.add(
      "drift",
      { tenantId },
      {
        jobId: `drift-${tenantId}-${round}`,
        delay: delayMs,
        attempts: 3,
        backoff: { type: "exponential", delay: 60_000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }

  /**
   * The lifecycle's schedules, as BullMQ job schedulers (idempotent: every replica may call it;
   * Redis holds one schedule per task). Times are cron patterns in the platform's timezone.
   */
  async scheduleMaintenance(s: {
    backupCron: string;
    graceCron: string;
    backupRetentionCron: string;
    checkCron: string;
    driftCron: string;
    restoreDrillCron: string;
    sleepCheckCron: string;
    usageMeterCron: string;
    monitoringWatchCron: string;
    timezone: string;
  }): Promise<void> {
    const plans: [MaintenanceTask, string][] = [
      ["nightly-backups", s.backupCron],
      ["grace-periods", s.graceCron],
      ["backup-retention", s.backupRetentionCron],
      ["repository-check", s.checkCron],
      ["drift-checks", s.driftCron],
      ["restore-drills", s.restoreDrillCron],
      ["idle-sleep", s.sleepCheckCron],
      ["usage-metering", s.usageMeterCron],
      ["monitoring-watch", s.monitoringWatchCron],
    ];
    for (const [task, pattern] of plans)
      await this.maintenance.upsertJobScheduler(
        task,
        { pattern, tz: s.timezone },
        { name: task, data: { task }, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
  }

  /** A maintenance task run now, besides its schedule (an operator's request). */
  async runMaintenanceNow(task: MaintenanceTask): Promise<void> {
    await this.maintenance.add(
      task,
      { task },
      { jobId: `${task}-now-${Date.now()}`, removeOnComplete: 100, removeOnFail: 100 },
    );
  }

  /**
   * At most one pending reconcile per tenant: the job id is the tenant's, so adding while one
   * waits is a no-op. A generation that arrives while one runs is picked up by the running job's
   * loop, or by the sweeper.
   */
  async enqueueReconcile(tenantId: string, opts: { promote?: boolean } = {}): Promise<void> {
    const job = await this.reconcile.add(
      "reconcile",
      { tenantId },
      {
        jobId: `tenant-${tenantId}`,
        attempts: 6,
        backoff: { type: "exponential", delay: 5000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
    // A new desired state must not wait out the backoff of a retry of the old one (a failing
    // plan change): the waiting retry runs now, and applies the newest generation.
    if (opts.promote && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  /**
   * For callers that answer someone (an admin request): the change is already stored, so if Redis
   * does not take the job within a second the caller goes on and the sweeper enqueues it later.
   */
  requestReconcile(tenantId: string): Promise<void> {
    return withinASecond(this.enqueueReconcile(tenantId, { promote: true }));
  }

  /** The stored mail's job, the same way: the sweeper queues it later if Redis does not take it. */
  requestMail(outboxId: string): Promise<void> {
    return withinASecond(this.enqueueMail(outboxId));
  }

  /** A quarantined billing unit's retry, once per attempt (the sweeper adds it when it is due). */
  async enqueueBillingRetry(key: string, attempt: number): Promise<void> {
    await this.billing.add(
      "retry",
      { kind: "retry", key },
      {
        jobId: `retry-${key.replace(":", "-")}-${attempt}`,
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }

  /** A subscription read again at `at` (one that starts then); the resync covers a lost job. */
  async enqueueSubscriptionCheck(subscriptionId: string, at: Date): Promise<void> {
    await this.billing.add(
      "subscription",
      { kind: "subscription", subscriptionId, cause: "start date" },
      {
        jobId: `starts-${subscriptionId}-${at.getTime()}`,
        delay: Math.max(0, at.getTime() - Date.now()),
        attempts: 5,
        backoff: { type: "exponential", delay: 10_000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }

  async enqueueInbox(inboxId: string): Promise<void> {
    await this.inbox.add(
      "inbox",
      { inboxId },
      {
        jobId: `inbox-${inboxId}`,
        // What Kill Bill does not answer is quarantined by the service, with its own backoff; this
        // retries what failed here (the store away), then leaves it to the sweeper (the event
        // stays unprocessed). The failed job is not kept: a kept job id would make the sweeper's
        // re-add a no-op.
        attempts: 12,
        backoff: { type: "exponential", delay: 2000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /**
   * Mail is retried on its own: a send failure never fails the operation that asked for it. One
   * job per outbox row: adding it again while it waits or is kept as failed changes nothing.
   */
  async enqueueMail(outboxId: string): Promise<void> {
    await this.mail.add(
      "mail",
      { outboxId },
      {
        jobId: `mail-${outboxId}`,
        attempts: 10,
        backoff: { type: "exponential", delay: 10000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }

  async depths(): Promise<Record<string, number>> {
    const entries = await Promise.all(
      [this.reconcile, this.inbox, this.mail, this.tenantOps, this.drift, this.billing].map(
        async (q) =>
          [
            q.name,
            await q.getJobCountByTypes("waiting", "delayed", "active", "prioritized"),
          ] as const,
      ),
    );
    return Object.fromEntries(entries);
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close()));
  }
}
