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

export class RealKillBill {
  readonly apiKey = `odoo-saas-${process.pid}-${Date.now().toString(36)}`;
  readonly apiSecret = `secret-${Math.random().toString(36).slice(2)}`;
  readonly username = ADMIN.username;
  readonly password = ADMIN.password;

  private constructor(readonly url: string) {}

  /** Starts (or reuses) the local Kill Bill; the suite's Kill Bill tenant comes with its callback. */
  static async start(): Promise<RealKillBill> {
    const script = path.join(__dirname, "..", "scripts", "ensure-killbill.sh");
    const url = execFileSync("bash", [script], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    })
      .trim()
      .split("\n")
      .pop()!;
    return new RealKillBill(url);
  }

  /**
   * Makes the Kill Bill tenant ready (catalog, overdue policy) and points its notifications at
   * `url`, as `odoo-saas killbill setup` does; idempotent, so it also re-points them.
   */
  registerCallback(url: string) {
    return setUpKillBill(this, loadCatalog(), url);
  }

  async createAccount(a: { name: string; externalKey?: string; email?: string }): Promise<string> {
    return this.created(await this.call("POST", "/1.0/kb/accounts", { currency: "EUR", ...a }));
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
    const res = await fetch(new URL(urlPath, this.url), {
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
