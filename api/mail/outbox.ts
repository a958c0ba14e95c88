import type { Mail, Queues } from "../jobs/queues";
import type { MailOutboxStore } from "../store/mail-outbox-store";

/** How the API sends mail: stored in the outbox (PostgreSQL) first, then queued for the worker. */
export class Outbox {
  constructor(
    private readonly store: MailOutboxStore,
    private readonly queues: Queues,
  ) {}

  async send(mail: Mail): Promise<void> {
    const id = await this.store.add(mail);
    // Stored: if Redis does not take the job within a second, the sweeper queues it later.
    const queued = this.queues.enqueueMail(id).catch(() => undefined);
    await Promise.race([queued, new Promise((r) => setTimeout(r, 1000).unref())]);
  }
}
