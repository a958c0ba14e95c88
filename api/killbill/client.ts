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

/** Read-only Kill Bill REST calls (basic auth + tenant key/secret headers), over fetch. */
export class KillBillClient {
  constructor(private readonly c: KillBillConnection) {}

  subscription(id: string): Promise<KillBillSubscription | undefined> {
    return this.get(`/1.0/kb/subscriptions/${encodeURIComponent(id)}?audit=NONE`);
  }

  account(id: string): Promise<KillBillAccount | undefined> {
    return this.get(`/1.0/kb/accounts/${encodeURIComponent(id)}?audit=NONE`);
  }

  bundle(id: string): Promise<KillBillBundle | undefined> {
    return this.get(`/1.0/kb/bundles/${encodeURIComponent(id)}?audit=NONE`);
  }

  /** The account's overdue state; "__KILLBILL__CLEAR__OVERDUE_STATE__" when nothing is overdue. */
  async overdueState(accountId: string): Promise<string | undefined> {
    const state = await this.get<{ name: string }>(
      `/1.0/kb/accounts/${encodeURIComponent(accountId)}/overdue`,
    );
    return state?.name;
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
