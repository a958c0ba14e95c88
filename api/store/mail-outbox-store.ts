import type { Pool } from "pg";
import type { Mail } from "../domain/mail";

/**
 * Every mail the API means to send, stored before it is queued: a Redis that loses its jobs
 * loses no mail (the sweeper queues unsent ones again). A sender claims a mail for a while
 * before it talks to SMTP, so two processes (or a retry and the sweeper) never send it at once.
 */
export class MailOutboxStore {
  constructor(private readonly pool: Pool) {}

  async add(mail: Mail): Promise<string> {
    const r = await this.pool.query(
      "INSERT INTO mail_outbox (to_address, subject, body) VALUES ($1, $2, $3) RETURNING id",
      [mail.to, mail.subject, mail.text],
    );
    return String(r.rows[0].id);
  }

  /**
   * The mail, claimed for `leaseMs`; undefined when it was sent already or another sender's
   * claim still runs.
   */
  async claim(id: string, leaseMs: number): Promise<Mail | undefined> {
    const r = await this.pool.query(
      `UPDATE mail_outbox SET claimed_until = now() + make_interval(secs => $2)
        WHERE id = $1 AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
        RETURNING to_address, subject, body`,
      [id, leaseMs / 1000],
    );
    const m = r.rows[0];
    return m ? { to: m.to_address, subject: m.subject, text: m.body } : undefined;
  }

  /** Give up a claim without sending (SMTP refused): the next attempt may claim it at once. */
  async release(id: string): Promise<void> {
    await this.pool.query(
      "UPDATE mail_outbox SET claimed_until = NULL WHERE id = $1 AND sent_at IS NULL",
      [id],
    );
  }

  async markSent(id: string): Promise<void> {
    await this.pool.query("UPDATE mail_outbox SET sent_at = now() WHERE id = $1", [id]);
  }

  /**
   * Mails not sent a while after they were written and claimed by nobody (their job may be gone
   * with Redis's data, or their sender with its process).
   */
  async stale(olderThanMs: number, limit = 100): Promise<string[]> {
    const r = await this.pool.query(
      `SELECT id FROM mail_outbox WHERE sent_at IS NULL
         AND created_at < now() - make_interval(secs => $1)
         AND (claimed_until IS NULL OR claimed_until < now())
       ORDER BY id LIMIT $2`,
      [olderThanMs / 1000, limit],
    );
    return r.rows.map((x) => String(x.id));
  }
}
