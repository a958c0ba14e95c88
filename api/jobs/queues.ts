import { Queue, type ConnectionOptions } from "bullmq";

export const RECONCILE_QUEUE = "reconcile";
export const INBOX_QUEUE = "inbox";
export const MAIL_QUEUE = "mail";

export interface ReconcileJob {
  tenantId: string;
}
export interface InboxJob {
  inboxId: string;
}
export interface MailJob {
  to: string;
  subject: string;
  text: string;
}

/** The durable queues (Redis, BullMQ) and the one way each job is added. */
export class Queues {
  readonly reconcile: Queue<ReconcileJob>;
  readonly inbox: Queue<InboxJob>;
  readonly mail: Queue<MailJob>;

  constructor(connection: ConnectionOptions, prefix = "odoo-saas") {
    const opts = { connection, prefix };
    this.reconcile = new Queue<ReconcileJob>(RECONCILE_QUEUE, opts);
    this.inbox = new Queue<InboxJob>(INBOX_QUEUE, opts);
    this.mail = new Queue<MailJob>(MAIL_QUEUE, opts);
  }

  /**
   * At most one pending reconcile per tenant: the job id is the tenant's, so adding while one
   * waits is a no-op. A generation that arrives while one runs is picked up by the running job's
   * loop, or by the sweeper.
   */
  async enqueueReconcile(tenantId: string): Promise<void> {
    await this.reconcile.add(
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
  }

  async enqueueInbox(inboxId: string): Promise<void> {
    await this.inbox.add(
      "inbox",
      { inboxId },
      {
        jobId: `inbox-${inboxId}`,
        // Kill Bill may be down for a while: keep trying for about two hours, then leave it to the
        // sweeper (the event stays unprocessed in the inbox). The failed job is not kept: a kept
        // job id would make the sweeper's re-add a no-op.
        attempts: 12,
        backoff: { type: "exponential", delay: 2000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** Mail is retried on its own: a send failure never fails the operation that asked for it. */
  async enqueueMail(mail: MailJob): Promise<void> {
    await this.mail.add("mail", mail, {
      attempts: 10,
      backoff: { type: "exponential", delay: 10000 },
      removeOnComplete: true,
      removeOnFail: 1000,
    });
  }

  async depths(): Promise<Record<string, number>> {
    const entries = await Promise.all(
      [this.reconcile, this.inbox, this.mail].map(
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
    await Promise.all([this.reconcile.close(), this.inbox.close(), this.mail.close()]);
  }
}
