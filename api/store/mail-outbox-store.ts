import type { Pool } from "pg";
import type { Mail } from "../jobs/queues";

/**
 * Every mail the API means to send, stored before it is queued: a Redis that loses its jobs
 * loses no mail (the sweeper queues unsent ones again). Sent at least once: a crash between the
 * SMTP answer and `markSent` sends it again.
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

  /** The mail, unless it was sent already. */
  async unsentMail(id: string): Promise<Mail | undefined> {
    const r = await this.pool.query(
      "SELECT to_address, subject, body FROM mail_outbox WHERE id = $1 AND sent_at IS NULL",
      [id],
    );
    const m = r.rows[0];
    return m ? { to: m.to_address, subject: m.subject, text: m.body } : undefined;
  }

  async markSent(id: string): Promise<void> {
    await this.pool.query("UPDATE mail_outbox SET sent_at = now() WHERE id = $1", [id]);
  }

  /** Mails not sent a while after they were written (their job may be gone with Redis's data). */
  async stale(olderThanMs: number, limit = 100): Promise<string[]> {
    const r = await this.pool.query(
      `SELECT id FROM mail_outbox WHERE sent_at IS NULL
         AND created_at < now() - make_interval(secs => $1) ORDER BY id LIMIT $2`,
      [olderThanMs / 1000, limit],
    );
    return r.rows.map((x) => String(x.id));
  }
}
