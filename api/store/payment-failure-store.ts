import type { Pool } from "pg";

/**
 * Invoices whose collection failed. Kill Bill keeps no payment for an attempt that never reached a
 * gateway (no payment method), so the failure is recorded from its INVOICE_PAYMENT_FAILED event,
 * after the invoice was read back; whether it still counts is decided by the invoice's balance,
 * re-read every time.
 */
export class PaymentFailureStore {
  constructor(private readonly pool: Pool) {}

  async record(invoiceId: string, accountId: string) {
    await this.pool.query(
      `INSERT INTO payment_failures (invoice_id, account_id) VALUES ($1, $2)
       ON CONFLICT (invoice_id) DO NOTHING`,
      [invoiceId, accountId],
    );
  }

  /** The account's invoices a collection failed on. */
  async invoices(accountId: string): Promise<Set<string>> {
    const r = await this.pool.query(
      "SELECT invoice_id FROM payment_failures WHERE account_id = $1",
      [accountId],
    );
    return new Set(r.rows.map((x) => x.invoice_id as string));
  }
}
