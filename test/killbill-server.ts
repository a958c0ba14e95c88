// Drives a real Kill Bill (scripts/ensure-killbill.sh starts one on loopback) the way a shop and
// Kill Bill's own jobs would: a Kill Bill tenant of its own per suite (so suites never see each
// other's accounts), the project's catalog and overdue XML uploaded (Kill Bill validates them),
// the API's webhook registered, then accounts, subscriptions, cancellations, pauses, tags.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { killBillHeaders } from "../api/killbill/client";
import { setUpKillBill } from "../api/killbill/setup";
import { loadCatalog } from "../catalog";

const ADMIN = { username: "admin", password: "password" };

/** A Kill Bill server of a suite's own (port, database port, directory). */
export interface KillBillServer {
  port: number;
  dbPort: number;
  dir: string;
  /** Restart it on an empty database (a suite that moves the clock: nothing else bills then). */
  fresh?: boolean;
}

/** scripts/ensure-killbill.sh, for the shared Kill Bill or a suite's own; its stdout. */
function ensureKillBill(args: string[], server?: KillBillServer): string {
  const script = path.join(__dirname, "..", "scripts", "ensure-killbill.sh");
  return execFileSync("bash", [script, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: server
      ? {
          ...process.env,
          KILLBILL_PORT: String(server.port),
          KILLBILL_DB_PORT: String(server.dbPort),
          ODOO_SAAS_KILLBILL_DIR: server.dir,
          KILLBILL_FRESH: server.fresh ? "1" : "0",
        }
      : process.env,
  });
}

export class RealKillBill {
  readonly username = ADMIN.username;
  readonly password = ADMIN.password;

  private constructor(
    readonly url: string,
    readonly apiKey = `odoo-saas-${process.pid}-${Date.now().toString(36)}`,
    readonly apiSecret = `secret-${Math.random().toString(36).slice(2)}`,
    /** How requests reach it: fetch, or a way into a network the test host is not on. */
    private readonly send: typeof fetch = fetch,
  ) {}

  /**
   * A Kill Bill that runs in a container on a network of its own (the deployed platform's),
   * reached from inside it (`docker exec … curl`): its Kill Bill tenant is the platform's.
   * `container` names the running one at each call: Swarm may replace a service's task any time.
   */
  static inContainer(
    container: () => Promise<string>,
    tenant: { apiKey: string; apiSecret: string },
  ) {
    const send = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input);
      const args = [
        "exec",
        "-i",
        await container(),
        "curl",
        "-sS",
        "-D",
        "-",
        "-X",
        init?.method ?? "GET",
      ];
      for (const [k, v] of Object.entries((init?.headers ?? {}) as Record<string, string>))
        args.push("-H", `${k}: ${v}`);
      if (init?.body !== undefined) args.push("--data-binary", "@-");
      const raw = execFileSync("/usr/bin/docker", [...args, url], {
        input: init?.body === undefined ? undefined : String(init.body),
        encoding: "utf8",
        maxBuffer: 16 * 1024 * 1024,
      });
      // curl -D - prints each response's head (a 100 Continue among them), then the body.
      const parts = raw.split(/\r?\n\r?\n/);
      let i = 0;
      while (/^HTTP\/\S+ 100/.test(parts[i] ?? "")) i++;
      const [statusLine, ...headerLines] = parts[i].split(/\r?\n/);
      const headers = new Headers();
      for (const line of headerLines) {
        const at = line.indexOf(":");
        if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      const status = Number(statusLine.split(" ")[1]);
      const body = parts.slice(i + 1).join("\n\n");
      return new Response([204, 304].includes(status) ? null : body, { status, headers });
    }) as typeof fetch;
    return new RealKillBill("http://127.0.0.1:8080", tenant.apiKey, tenant.apiSecret, send);
  }

  /**
   * Starts (or reuses) the local Kill Bill; the suite's Kill Bill tenant comes with its callback.
   * `server` names a Kill Bill of its own (port, database port, directory): its test clock is
   * global to the server, so a suite that moves it must not share the server with others.
   */
  static async start(server?: KillBillServer): Promise<RealKillBill> {
    const url = ensureKillBill([], server).trim().split("\n").pop()!;
    return new RealKillBill(url);
  }

  /** Stops a Kill Bill of a suite's own: idle, its JVM still polls its queues (CPU for others). */
  static stop(server: KillBillServer): void {
    ensureKillBill(["--stop"], server);
  }

  /**
   * Makes the Kill Bill tenant ready (catalog, overdue policy) and points its notifications at
   * `url`, as `odoo-saas killbill setup` does; idempotent, so it also re-points them.
   */
  registerCallback(url: string) {
    return setUpKillBill(this, loadCatalog(), url);
  }

  /** An account; with a payment method that always succeeds unless `paymentMethod: false`. */
  async createAccount(
    a: { name: string; externalKey?: string; email?: string },
    opts: { paymentMethod?: boolean } = {},
  ): Promise<string> {
    const id = this.created(await this.call("POST", "/1.0/kb/accounts", { currency: "EUR", ...a }));
    if (opts.paymentMethod !== false) await this.addPaymentMethod(id);
    return id;
  }

  updateAccount(accountId: string, patch: { email?: string; name?: string }) {
    return this.call("PUT", `/1.0/kb/accounts/${accountId}`, patch);
  }

  /** A subscription in a new bundle; `bundleKey` is the bundle's external key (the tenant id). */
  async subscribe(accountId: string, planName: string, bundleKey?: string) {
    const res = await this.call("POST", "/1.0/kb/subscriptions", {
      accountId,
      planName,
      ...(bundleKey === undefined ? {} : { bundleExternalKey: bundleKey }),
    });
    const subscriptionId = this.created(res);
    const s = (await (
      await this.call("GET", `/1.0/kb/subscriptions/${subscriptionId}`)
    ).json()) as {
      bundleId: string;
      bundleExternalKey: string;
    };
    return {
      subscriptionId,
      accountId,
      bundleId: s.bundleId,
      bundleExternalKey: s.bundleExternalKey,
    };
  }

  cancel(subscriptionId: string) {
    return this.call(
      "DELETE",
      `/1.0/kb/subscriptions/${subscriptionId}?entitlementPolicy=IMMEDIATE&billingPolicy=IMMEDIATE`,
    );
  }

  /** A cancellation at the end of the paid term: the subscription runs until then. */
  cancelEndOfTerm(subscriptionId: string) {
    return this.call(
      "DELETE",
      `/1.0/kb/subscriptions/${subscriptionId}?entitlementPolicy=END_OF_TERM&billingPolicy=END_OF_TERM`,
    );
  }

  changePlan(subscriptionId: string, planName: string) {
    return this.call(
      "PUT",
      `/1.0/kb/subscriptions/${subscriptionId}?callCompletion=true&callTimeoutSec=10`,
      { planName },
    );
  }

  async subscription(subscriptionId: string) {
    return (await (await this.call("GET", `/1.0/kb/subscriptions/${subscriptionId}`)).json()) as {
      state: string;
      phaseType: string;
      planName: string;
      cancelledDate: string | null;
    };
  }

  /** Kill Bill's AUTO_PAY_OFF control tag: invoices wait for a payment (a bank transfer). */
  autoPayOff(accountId: string) {
    return this.call("POST", `/1.0/kb/accounts/${accountId}/tags`, [
      "00000000-0000-0000-0000-000000000001",
    ]);
  }

  /** A default payment method that always succeeds (Kill Bill's built-in external payments). */
  addPaymentMethod(accountId: string) {
    return this.call("POST", `/1.0/kb/accounts/${accountId}/paymentMethods?isDefault=true`, {
      pluginName: "__EXTERNAL_PAYMENT__",
    });
  }

  /** Pays every open invoice of the account (recorded as external payments). */
  async payAll(accountId: string): Promise<number> {
    const open = (await (
      await this.call("GET", `/1.0/kb/accounts/${accountId}/invoices?unpaidInvoicesOnly=true`)
    ).json()) as { invoiceId: string; balance: number }[];
    for (const i of open.filter((x) => x.balance > 0))
      await this.call("POST", `/1.0/kb/invoices/${i.invoiceId}/payments?externalPayment=true`, {
        accountId,
        purchasedAmount: i.balance,
      });
    return open.length;
  }

  /** Kill Bill's clock back to the real time. */
  async resetClock(): Promise<Date> {
    return this.clockAnswer(await this.call("POST", "/1.0/kb/test/clock?timeoutSec=20"));
  }

  /** Moves Kill Bill's clock on by `days`; resolves once its queues have drained. */
  async moveClock(days: number): Promise<Date> {
    return this.clockAnswer(
      await this.call("PUT", `/1.0/kb/test/clock?days=${days}&timeoutSec=20`),
    );
  }

  private async clockAnswer(res: Response): Promise<Date> {
    return new Date(((await res.json()) as { currentUtcTime: string }).currentUtcTime);
  }

  pauseBundle(bundleId: string) {
    return this.call("PUT", `/1.0/kb/bundles/${bundleId}/pause`);
  }

  resumeBundle(bundleId: string) {
    return this.call("PUT", `/1.0/kb/bundles/${bundleId}/resume`);
  }

  /** An account-level blocking state that blocks nothing: Kill Bill sends BLOCKING_STATE. */
  accountBlockingState(accountId: string, stateName: string) {
    return this.call("POST", `/1.0/kb/accounts/${accountId}/block`, {
      stateName,
      service: "odoo-saas-test",
      isBlockChange: false,
      isBlockEntitlement: false,
      isBlockBilling: false,
    });
  }

  /** Kill Bill's AUTO_INVOICING_OFF control tag: Kill Bill sends TAG_CREATION with text metaData. */
  tagAccount(accountId: string) {
    return this.call("POST", `/1.0/kb/accounts/${accountId}/tags`, [
      "00000000-0000-0000-0000-000000000003",
    ]);
  }

  private created(res: Response): string {
    const location = res.headers.get("location");
    if (!location) throw new Error("Kill Bill answered without a Location");
    return location.split("/").pop()!;
  }

  async call(method: string, urlPath: string, body?: unknown, tenant = true): Promise<Response> {
    const xml = typeof body === "string";
    const res = await this.send(new URL(urlPath, this.url), {
      method,
      headers: {
        ...killBillHeaders(this, { tenant, createdBy: "odoo-saas-tests" }),
        ...(body === undefined ? {} : { "Content-Type": xml ? "text/xml" : "application/json" }),
      },
      body: body === undefined ? undefined : xml ? body : JSON.stringify(body),
    });
    if (res.status >= 400)
      throw new Error(
        `Kill Bill ${method} ${urlPath.split("?")[0]}: ${res.status} ${await res.text()}`,
      );
    return res;
  }
}
