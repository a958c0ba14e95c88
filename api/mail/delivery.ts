import type { Logger } from "pino";
import type { MailOutboxStore } from "../store/mail-outbox-store";
import type { Mailer } from "./mailer";

/**
 * Sends one outbox mail at most once per claim. Only a process that dies between the SMTP
 * answer and recording it (or a database away for longer than the claim) sends a mail twice;
 * its stable Message-ID lets the receiving mail system recognise the copy.
 */
export class MailDelivery {
  constructor(
    private readonly outbox: MailOutboxStore,
    private readonly mailer: Mailer,
    private readonly logger: Logger,
    /** How long a sender holds a mail; a crashed sender's mail is sent again after it. */
    private readonly claimMs = 5 * 60_000,
  ) {}

  /** Sends the mail unless it was sent or is being sent; SMTP failures throw (the job retries). */
  async deliver(id: string): Promise<"sent" | "not-mine"> {
    const mail = await this.outbox.claim(id, this.claimMs);
    if (!mail) return "not-mine";
    try {
      await this.mailer.send(mail, id);
    } catch (err) {
      await this.outbox.release(id).catch(() => undefined); // else the claim runs out by itself
      throw err;
    }
    await this.recordSent(id);
    return "sent";
  }

  /**
   * Failing the job here would send the mail again on retry: wait out a database outage instead,
   * for as long as the claim keeps others away.
   */
  private async recordSent(id: string): Promise<void> {
    const deadline = Date.now() + this.claimMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.outbox.markSent(id);
      } catch (err) {
        if (Date.now() + 1000 >= deadline) throw err;
        if (attempt === 1)
          this.logger.warn(
            { outboxId: id, error: (err as Error).message },
            "mail sent, recording it waits for the database",
          );
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}
