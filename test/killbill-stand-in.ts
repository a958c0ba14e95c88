// A stand-in for Kill Bill's REST API (NOT Kill Bill): an in-test HTTP server on 127.0.0.1 that
// serves the documented 0.24 payload shapes (SubscriptionJson, AccountJson, BundleJson) for the
// calls the API makes, and checks the authentication headers it must send.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type {
  KillBillAccount,
  KillBillBundle,
  KillBillInvoice,
  KillBillSubscription,
} from "../api/killbill/client";

export const KB_AUTH = {
  username: "admin",
  password: "password",
  apiKey: "odoo-saas",
  apiSecret: "odoo-saas-secret",
};

export class KillBillStandIn {
  readonly accounts = new Map<string, KillBillAccount>();
  readonly subscriptions = new Map<string, KillBillSubscription>();
  /** Per account: its overdue state (absent: clear) and open invoices (absent: none). */
  readonly overdue = new Map<
    string,
    { name: string; isDisableEntitlementAndChangesBlocked: boolean }
  >();
  readonly invoices = new Map<string, KillBillInvoice[]>();
  readonly requests: string[] = [];
  /** Answer the next N requests with 503 (Kill Bill down or restarting). */
  unavailableFor = 0;
  /** The next GET whose path matches answers late, with what was true when it was asked. */
  slowOnce?: { path: RegExp; ms: number };
  private server?: http.Server;
  url = "";

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /** An account with one bundle (external key = tenant id) holding one subscription. */
  subscribe(opts: {
    tenantId: string;
    customer: string;
    email: string;
    planName: string;
    /** Another subscription of an existing account (a returning customer). */
    accountId?: string;
    /** Kill Bill starts plans with a trial in TRIAL; default EVERGREEN (paid). */
    phaseType?: string;
  }): KillBillSubscription {
    const n = this.subscriptions.size + 1;
    const accountId = opts.accountId ?? `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    this.accounts.set(accountId, {
      accountId,
      externalKey: opts.customer,
      name: opts.customer,
      email: opts.email,
    });
    const sub: KillBillSubscription = {
      subscriptionId: `10000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      accountId,
      bundleId: `20000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      bundleExternalKey: opts.tenantId,
      planName: opts.planName,
      phaseType: opts.phaseType ?? "EVERGREEN",
      state: "ACTIVE",
    };
    this.subscriptions.set(sub.subscriptionId, sub);
    return sub;
  }

  private bundle(bundleId: string): KillBillBundle | undefined {
    const subs = [...this.subscriptions.values()].filter((s) => s.bundleId === bundleId);
    return subs.length
      ? { bundleId, externalKey: subs[0].bundleExternalKey, subscriptions: subs }
      : undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    this.requests.push(`${req.method} ${req.url}`);
    if (this.unavailableFor > 0) {
      this.unavailableFor--;
      res.writeHead(503).end();
      return;
    }
    const basic = `Basic ${Buffer.from(`${KB_AUTH.username}:${KB_AUTH.password}`).toString("base64")}`;
    if (
      req.headers.authorization !== basic ||
      req.headers["x-killbill-apikey"] !== KB_AUTH.apiKey ||
      req.headers["x-killbill-apisecret"] !== KB_AUTH.apiSecret
    ) {
      res.writeHead(401).end();
      return;
    }
    const url = new URL(req.url!, "http://x");
    const path = url.pathname;
    const slow = this.slowOnce && this.slowOnce.path.test(path) ? this.slowOnce.ms : 0;
    if (slow) this.slowOnce = undefined;
    const send = (body: unknown) => {
      const text = body === undefined ? undefined : JSON.stringify(body); // read now, sent later
      setTimeout(
        () =>
          text === undefined
            ? res.writeHead(404).end()
            : res.writeHead(200, { "Content-Type": "application/json" }).end(text),
        slow,
      );
    };
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/1\.0\/kb\/subscriptions\/([^/]+)$/))) {
      const sub = this.subscriptions.get(m[1]);
      if (req.method === "GET" || !sub) return send(sub);
      // The writes the trial policy makes: a plan change (to the paid phase), a cancellation.
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        if (req.method === "PUT") Object.assign(sub, JSON.parse(body));
        if (req.method === "DELETE") sub.state = "CANCELLED";
        res.writeHead(204).end();
      });
      return;
    }
    if ((m = path.match(/^\/1\.0\/kb\/accounts\/([^/]+)\/overdue$/)))
      return send(
        this.overdue.get(m[1]) ?? {
          name: "__KILLBILL__CLEAR__OVERDUE_STATE__",
          isDisableEntitlementAndChangesBlocked: false,
        },
      );
    if ((m = path.match(/^\/1\.0\/kb\/accounts\/([^/]+)\/invoices$/)))
      return send(
        (this.invoices.get(m[1]) ?? []).filter(
          (i) => url.searchParams.get("unpaidInvoicesOnly") !== "true" || i.balance > 0,
        ),
      );
    if ((m = path.match(/^\/1\.0\/kb\/invoices\/([^/]+)$/)))
      return send([...this.invoices.values()].flat().find((i) => i.invoiceId === m![1]));
    if ((m = path.match(/^\/1\.0\/kb\/accounts\/([^/]+)\/bundles$/)))
      return send(
        [
          ...new Set(
            [...this.subscriptions.values()]
              .filter((s) => s.accountId === m![1])
              .map((s) => s.bundleId),
          ),
        ].map((b) => this.bundle(b)),
      );
    if ((m = path.match(/^\/1\.0\/kb\/accounts\/([^/]+)$/))) return send(this.accounts.get(m[1]));
    if ((m = path.match(/^\/1\.0\/kb\/bundles\/([^/]+)$/))) return send(this.bundle(m[1]));
    res.writeHead(404).end();
  }
}

/** A Kill Bill 0.24 push notification body, metaData as a JSON string. */
export function notification(
  eventType: string,
  objectType: string,
  objectId: string | null,
  accountId: string | null,
  metaData: Record<string, unknown> | null = null,
) {
  return {
    eventType,
    objectType,
    objectId,
    accountId,
    metaData: metaData === null ? null : JSON.stringify(metaData),
  };
}
