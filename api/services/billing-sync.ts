import type { Catalog } from "../../catalog";
import type { OdooVersion } from "../../components/tenant/odoo-versions";
import type { KillBillClient, KillBillSubscription } from "../killbill/client";
import { factsFromBilling } from "../killbill/desired-state";
import { RELEVANT_EVENT_TYPES } from "../killbill/notification";
import type { Queues } from "../jobs/queues";
import type { Logger } from "../logger";
import { billingProblemMail } from "../mail/messages";
import type { Metrics } from "../metrics";
import type { BillingProblemStore } from "../store/billing-problem-store";
import type { InboxRow, InboxStore } from "../store/inbox-store";
import type { TenantStore } from "../store/tenant-store";

export interface BillingSyncDeps {
  inbox: InboxStore;
  tenants: TenantStore;
  problems: BillingProblemStore;
  killbill: KillBillClient;
  catalog: Catalog;
  queues: Queues;
  metrics: Metrics;
  logger: Logger;
  operatorEmail: string;
  /** Odoo version of tenants created from billing (Kill Bill does not carry one). */
  defaultOdooVersion: OdooVersion;
  /** Our own clock (trial expiry); Date.now by default. */
  now?: () => Date;
}

const CLEAR_OVERDUE = "__KILLBILL__CLEAR__OVERDUE_STATE__";
const isLive = (s: KillBillSubscription | undefined) =>
  !!s && ["PENDING", "ACTIVE", "BLOCKED"].includes(s.state);

/**
 * Turns Kill Bill's state into desired state. An event is only a hint: the subscriptions it may
 * concern are re-read from Kill Bill and each applied under the binding rules (a tenant follows the
 * one subscription it is bound to; see killbill/binding.ts), so duplicates, reordering, retries and
 * account-level events re-reading old subscriptions can never cause a wrong action.
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

  /** Every subscription of every account, page by page: what a missed event would have said. */
  async resync(
    pageSize = 100,
  ): Promise<{ accounts: number; subscriptions: number; changed: number }> {
    let accounts = 0;
    let subscriptions = 0;
    let changed = 0;
    for (let offset = 0; ; offset += pageSize) {
      const page = await this.d.killbill.accounts(offset, pageSize);
      for (const account of page) {
        accounts++;
        for (const bundle of await this.d.killbill.accountBundles(account.accountId))
          for (const s of bundle.subscriptions) {
            subscriptions++;
            if (
              /generation|\bproblem\b|conflict/.test(await this.syncSubscription(s.subscriptionId))
            )
              changed++;
          }
      }
      if (page.length < pageSize) break;
    }
    await this.updateProblemGauge();
    return { accounts, subscriptions, changed };
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

  /** Applies one subscription; says what happened (the inbox keeps it as the event's result). */
  async syncSubscription(subscriptionId: string): Promise<string> {
    const kb = this.d.killbill;
    const subscription = await kb.subscription(subscriptionId);
    if (!subscription) return `ignored: subscription ${subscriptionId} not found`;
    const account = await kb.account(subscription.accountId);
    if (!account) return `ignored: account ${subscription.accountId} not found`;
    const read = factsFromBilling(
      subscription,
      account,
      this.d.catalog,
      (this.d.now ?? (() => new Date()))(),
    );
    if (read.kind === "ignore") return `ignored: ${read.reason}`;
    if (read.kind === "problem")
      return this.problem(subscriptionId, account.accountId, read.tenantId ?? null, read.problem);
    const facts = read.facts;
    if (facts.billingState === "suspended")
      facts.suspendReason =
        (await kb.overdueState(account.accountId)) === CLEAR_OVERDUE ? "paused" : "overdue";
    for (let attempt = 0; attempt < 3; attempt++) {
      const bound = (await this.d.tenants.get(facts.tenantId))?.killbillSubscriptionId ?? null;
      facts.boundLive =
        bound && bound !== subscriptionId && facts.live
          ? isLive(await kb.subscription(bound))
          : undefined;
      const outcome = await this.d.tenants.applyBilling(facts, bound, {
        odooVersion: this.d.defaultOdooVersion,
      });
      if (!outcome.decision) continue; // the binding moved while we read Kill Bill
      const { decision, tenant, changed } = outcome;
      if (decision.action === "conflict")
        return this.problem(subscriptionId, account.accountId, facts.tenantId, decision.reason);
      await this.d.problems.resolve(subscriptionId);
      if (decision.action === "ignore") return `ignored: ${decision.reason}`;
      if (!changed)
        return `${tenant!.id}: unchanged (${tenant!.desiredState}, ${tenant!.spec.plan})`;
      await this.d.queues.enqueueReconcile(tenant!.id);
      return `${tenant!.id}: ${decision.action}, ${tenant!.desiredState} on ${tenant!.spec.plan} (generation ${tenant!.desiredGeneration})`;
    }
    throw new Error(`tenant ${facts.tenantId}: its binding kept moving; retried`);
  }

  /** Records a billing problem; operators are mailed once per problem. */
  private async problem(
    subscriptionId: string,
    accountId: string,
    tenantId: string | null,
    problem: string,
  ): Promise<string> {
    const p = { subscriptionId, accountId, tenantId, problem };
    if (await this.d.problems.report(p)) {
      await this.d.queues.enqueueMail(billingProblemMail(this.d.operatorEmail, p));
      await this.d.problems.markNotified(subscriptionId);
      this.d.logger.warn(p, "billing problem");
    }
    await this.updateProblemGauge();
    return `problem: ${problem}`;
  }

  private async updateProblemGauge() {
    this.d.metrics.billingProblems.set(await this.d.problems.countOpen());
  }
}
