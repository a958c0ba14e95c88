/** The parts of Kill Bill 0.24's SubscriptionJson this service reads. */
export interface KillBillSubscription {
  subscriptionId: string;
  accountId: string;
  bundleId: string;
  bundleExternalKey: string | null;
  planName: string | null;
  phaseType: string | null;
  state: "PENDING" | "ACTIVE" | "BLOCKED" | "CANCELLED" | "EXPIRED";
  /** ISO date (or date-time) the subscription started. */
  startDate?: string | null;
  /** The date the subscription ends (or ended) once a cancellation was requested; null if none. */
  cancelledDate?: string | null;
}

/** The parts of Kill Bill's InvoiceJson this service reads. */
export interface KillBillInvoice {
  invoiceId: string;
  accountId: string;
  /** What is still to be paid on it. */
  balance: number;
  amount: number;
  currency: string;
  invoiceDate?: string;
}

export interface KillBillAccount {
  accountId: string;
  externalKey: string | null;
  name: string | null;
  email: string | null;
}

export interface KillBillBundle {
  bundleId: string;
  externalKey: string | null;
  subscriptions: KillBillSubscription[];
}

export interface KillBillConnection {
  url: string;
  username: string;
  password: string;
  apiKey: string;
  apiSecret: string;
  /** Per request; Kill Bill answers in milliseconds when healthy. */
  timeoutMs?: number;
}

/**
 * Kill Bill's request headers: basic auth, the tenant's key and secret (`tenant: false` for calls
 * made before the tenant exists), and who made a change (Kill Bill records it on writes).
 */
export function killBillHeaders(
  c: Pick<KillBillConnection, "username" | "password" | "apiKey" | "apiSecret">,
  opts: { tenant?: boolean; createdBy?: string } = {},
): Record<string, string> {
  return {
    Authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`,
    ...(opts.tenant === false
      ? {}
      : { "X-Killbill-ApiKey": c.apiKey, "X-Killbill-ApiSecret": c.apiSecret }),
    ...(opts.createdBy ? { "X-Killbill-CreatedBy": opts.createdBy } : {}),
    Accept: "application/json",
  };
}

export class KillBillError extends Error {
  override readonly name = "KillBillError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Kill Bill REST calls (basic auth + tenant key/secret headers), over fetch: reads, and the two
 * writes the trial policy makes (a subscription started in its paid phase, or cancelled).
 */
export class KillBillClient {
  constructor(private readonly c: KillBillConnection) {}

  invoice(id: string): Promise<KillBillInvoice | undefined> {
    return this.get(`/1.0/kb/invoices/${encodeURIComponent(id)}?audit=NONE`);
  }

  /** The account's invoices with something left to pay. */
  async unpaidInvoices(accountId: string): Promise<KillBillInvoice[]> {
    return (
      (await this.get<KillBillInvoice[]>(
        `/1.0/kb/accounts/${encodeURIComponent(accountId)}/invoices?unpaidInvoicesOnly=true&audit=NONE`,
      )) ?? []
    );
  }

  /**
   * Moves a subscription on its own plan straight to the paid (EVERGREEN) phase: the trial is
   * skipped and Kill Bill invoices at once. Kill Bill answers with SUBSCRIPTION_CHANGE events.
   */
  async startPaidPhase(subscriptionId: string, planName: string, reason: string): Promise<void> {
    await this.write(
      "PUT",
      `/1.0/kb/subscriptions/${encodeURIComponent(subscriptionId)}?callCompletion=true&callTimeoutSec=10`,
      { planName, phaseType: "EVERGREEN" },
      reason,
    );
  }

  /** Cancels a subscription now, without charging for it. */
  async cancelNow(subscriptionId: string, reason: string): Promise<void> {
    await this.write(
      "DELETE",
      `/1.0/kb/subscriptions/${encodeURIComponent(subscriptionId)}?entitlementPolicy=IMMEDIATE&billingPolicy=IMMEDIATE&useRequestedDateForBilling=true`,
      undefined,
      reason,
    );
  }

  subscription(id: string): Promise<KillBillSubscription | undefined> {
    return this.get(`/1.0/kb/subscriptions/${encodeURIComponent(id)}?audit=NONE`);
  }

  account(id: string): Promise<KillBillAccount | undefined> {
    return this.get(`/1.0/kb/accounts/${encodeURIComponent(id)}?audit=NONE`);
  }

  bundle(id: string): Promise<KillBillBundle | undefined> {
    return this.get(`/1.0/kb/bundles/${encodeURIComponent(id)}?audit=NONE`);
  }

  /**
   * The account's overdue state ("__KILLBILL__CLEAR__OVERDUE_STATE__" when nothing is overdue) and
   * whether it blocks the entitlement.
   */
  async overdueState(accountId: string): Promise<{ name: string; blocks: boolean } | undefined> {
    const state = await this.get<{ name: string; isDisableEntitlementAndChangesBlocked?: boolean }>(
      `/1.0/kb/accounts/${encodeURIComponent(accountId)}/overdue`,
    );
    return state && { name: state.name, blocks: !!state.isDisableEntitlementAndChangesBlocked };
  }

  /** One page of accounts (for the resync), oldest first. */
  async accounts(offset: number, limit: number): Promise<KillBillAccount[]> {
    return (
      (await this.get<KillBillAccount[]>(
        `/1.0/kb/accounts/pagination?offset=${offset}&limit=${limit}&audit=NONE`,
      )) ?? []
    );
  }

  async accountBundles(accountId: string): Promise<KillBillBundle[]> {
    return (
      (await this.get<KillBillBundle[]>(
        `/1.0/kb/accounts/${encodeURIComponent(accountId)}/bundles?audit=NONE`,
      )) ?? []
    );
  }

  /**
   * Records one day of one unit for a subscription. `trackingId` makes it idempotent: Kill Bill
   * refuses a second record under the same id (KillBillError, status 4xx, "already exists").
   * Kill Bill's answer (its status line) is returned to be kept.
   */
  async recordUsage(u: {
    subscriptionId: string;
    trackingId: string;
    unit: string;
    day: string;
    amount: number;
  }): Promise<string> {
    const status = await this.write(
      "POST",
      "/1.0/kb/usages",
      {
        subscriptionId: u.subscriptionId,
        trackingId: u.trackingId,
        unitUsageRecords: [
          { unitType: u.unit, usageRecords: [{ recordDate: u.day, amount: u.amount }] },
        ],
      },
      `usage ${u.trackingId}`,
    );
    return `${status} recorded`;
  }

  private async write(
    method: string,
    path: string,
    body: unknown,
    reason: string,
  ): Promise<number> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.c.url), {
        method,
        headers: {
          ...killBillHeaders(this.c, { createdBy: "odoo-saas" }),
          "X-Killbill-Reason": reason.slice(0, 200),
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.c.timeoutMs ?? 30000),
      });
    } catch (e) {
      throw new KillBillError(`Kill Bill unreachable: ${(e as Error).message}`);
    }
    if (!response.ok)
      throw new KillBillError(
        `Kill Bill answered ${response.status} to ${method} ${path.split("?")[0]}: ${(await response.text()).slice(0, 200)}`,
        response.status,
      );
    return response.status;
  }

  /** GET; undefined on 404. Network errors and other statuses throw (the caller retries). */
  private async get<T>(path: string): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.c.url), {
        headers: killBillHeaders(this.c),
        signal: AbortSignal.timeout(this.c.timeoutMs ?? 10000),
      });
    } catch (e) {
      throw new KillBillError(`Kill Bill unreachable: ${(e as Error).message}`);
    }
    if (response.status === 404) return undefined;
    if (!response.ok)
      throw new KillBillError(
        `Kill Bill answered ${response.status} for ${path.split("?")[0]}`,
        response.status,
      );
    return (await response.json()) as T;
  }
}
