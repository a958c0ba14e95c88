import type { Queues } from "../jobs/queues";
import type { Mail } from "../domain/mail";
import type { MailOutboxStore } from "../store/mail-outbox-store";

/** How the API sends mail: stored in the outbox (PostgreSQL) first, then queued for the worker. */
export class Outbox {
  constructor(
    private readonly store: MailOutboxStore,
    private readonly queues: Queues,
  ) {}

  async send(mail: Mail): Promise<void> {
    await this.queues.requestMail(await this.store.add(mail));
  }
}
