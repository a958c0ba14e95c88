import type { Pool } from "pg";

export interface InboxEvent {
  eventType: string;
  objectType: string | null;
  objectId: string | null;
  accountId: string | null;
  /** The body as received, `metaData` already parsed. */
  body: unknown;
}

export interface InboxRow extends InboxEvent {
  id: string;
  receivedAt: string;
  processedAt: string | null;
  attempts: number;
  result: string | null;
}

const row = (r: any): InboxRow => ({
  id: String(r.id),
  eventType: r.event_type,
  objectType: r.object_type,
  objectId: r.object_id,
  accountId: r.account_id,
  body: r.body,
  receivedAt: r.received_at.toISOString(),
  processedAt: r.processed_at ? r.processed_at.toISOString() : null,
  attempts: r.attempts,
  result: r.result,
});

/** Every acknowledged webhook, stored before the 200 is sent: nothing acknowledged is lost. */
export class InboxStore {
  constructor(private readonly pool: Pool) {}

  async add(e: InboxEvent): Promise<string> {
    const r = await this.pool.query(
      `INSERT INTO webhook_inbox (event_type, object_type, object_id, account_id, body)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [e.eventType, e.objectType, e.objectId, e.accountId, JSON.stringify(e.body)],
    );
    return String(r.rows[0].id);
  }

  async get(id: string): Promise<InboxRow | undefined> {
    const r = await this.pool.query("SELECT * FROM webhook_inbox WHERE id = $1", [id]);
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  /** Unprocessed events, but those set aside (quarantined): their retry has its own time. */
  async pending(limit = 100): Promise<string[]> {
    const r = await this.pool.query(
      `SELECT id FROM webhook_inbox i WHERE processed_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM billing_quarantine q
                           WHERE q.key = 'event:' || i.id AND q.resolved_at IS NULL)
        ORDER BY id LIMIT $1`,
      [limit],
    );
    return r.rows.map((x) => String(x.id));
  }

  async attempt(id: string): Promise<void> {
    await this.pool.query("UPDATE webhook_inbox SET attempts = attempts + 1 WHERE id = $1", [id]);
  }

  async markProcessed(id: string, result: string): Promise<void> {
    await this.pool.query(
      "UPDATE webhook_inbox SET processed_at = now(), result = $2 WHERE id = $1",
      [id, result],
    );
  }
}
