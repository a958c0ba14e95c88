import type { Catalog } from "../../catalog";
import type { OdooVersion } from "../../components/tenant/odoo-versions";
import type { KillBillClient } from "../killbill/client";
import { desiredFromBilling } from "../killbill/desired-state";
import { RELEVANT_EVENT_TYPES } from "../killbill/notification";
import type { Queues } from "../jobs/queues";
import type { Logger } from "../logger";
import type { InboxRow, InboxStore } from "../store/inbox-store";
import type { TenantStore } from "../store/tenant-store";

export interface BillingSyncDeps {
  inbox: InboxStore;
  tenants: TenantStore;
  killbill: KillBillClient;
  catalog: Catalog;
  queues: Queues;
  logger: Logger;
  /** Odoo version of tenants created from billing (Kill Bill does not carry one). */
  defaultOdooVersion: OdooVersion;
}

/**
 * Turns stored webhooks into desired state. An event is only a hint: the subscription (and its
 * account) is re-read from Kill Bill and the desired state set from what it says now, so
 * duplicates (REQUESTED + EFFECTIVE), reordering and retries can never cause a wrong action.
 */
export class BillingSync {
  constructor(private readonly d: BillingSyncDeps) {}

  async process(inboxId: string): Promise<string> {
    const row = await this.d.inbox.get(inboxId);
    if (!row || row.processedAt) return "already processed";
    await this.d.inbox.attempt(inboxId);
    let result: string;
    if (!RELEVANT_EVENT_TYPES.has(row.eventType))
      result = `ignored: ${row.eventType} does not affect tenants`;
    else {
      const ids = await this.subscriptionIds(row);
      const outcomes = [];
      for (const id of ids) outcomes.push(await this.syncSubscription(id));
      result = outcomes.length ? outcomes.join("; ") : "ignored: no subscription";
    }
    await this.d.inbox.markProcessed(inboxId, result);
    this.d.logger.info({ inboxId, eventType: row.eventType, result }, "webhook processed");
    return result;
  }

  /** The subscriptions an event may concern, by what its object is. */
  private async subscriptionIds(row: InboxRow): Promise<string[]> {
    const kb = this.d.killbill;
    switch (row.objectType) {
      case "SUBSCRIPTION":
        return row.objectId ? [row.objectId] : [];
      case "BUNDLE": {
        const bundle = row.objectId ? await kb.bundle(row.objectId) : undefined;
        return bundle?.subscriptions.map((s) => s.subscriptionId) ?? [];
      }
      case "ACCOUNT": {
        const accountId = row.accountId ?? row.objectId;
        const bundles = accountId ? await kb.accountBundles(accountId) : [];
        return bundles.flatMap((b) => b.subscriptions.map((s) => s.subscriptionId));
      }
      default:
        return [];
    }
  }

  private async syncSubscription(subscriptionId: string): Promise<string> {
    const subscription = await this.d.killbill.subscription(subscriptionId);
    if (!subscription) return `ignored: subscription ${subscriptionId} not found`;
    const account = await this.d.killbill.account(subscription.accountId);
    if (!account) return `ignored: account ${subscription.accountId} not found`;
    const desired = desiredFromBilling(subscription, account, this.d.catalog);
    if (desired.kind === "ignore") return `ignored: ${desired.reason}`;
    const existing = await this.d.tenants.get(desired.tenantId);
    const spec = {
      plan: desired.plan || existing?.spec.plan || "unknown",
      odooVersion: existing?.spec.odooVersion ?? this.d.defaultOdooVersion,
      adminEmail: desired.adminEmail || existing?.spec.adminEmail || "",
      ...(existing?.spec.subdomain ? { subdomain: existing.spec.subdomain } : {}),
      customDomains: existing?.spec.customDomains ?? [],
    };
    const { changed, tenant } = await this.d.tenants.setDesired({
      id: desired.tenantId,
      customerId: desired.customerId,
      spec,
      desiredState: desired.state,
      source: "killbill",
      killbillSubscriptionId: subscriptionId,
    });
    if (!changed) return `${tenant.id}: unchanged (${desired.state}, ${spec.plan})`;
    await this.d.queues.enqueueReconcile(tenant.id);
    return `${tenant.id}: ${desired.state} on ${spec.plan} (generation ${tenant.desiredGeneration})`;
  }
}
