import { billingPolicy, type Catalog } from "../../catalog";
import type { OdooVersion } from "../../components/tenant/odoo-versions";
import type { KillBillAccount, KillBillClient, KillBillSubscription } from "../killbill/client";
import { billingNotices } from "../killbill/billing-notices";
import type { BillingReadings } from "../killbill/billing-status";
import { factsFromBilling } from "../killbill/desired-state";
import { decideBilling, type BillingFacts } from "../killbill/binding";
import { RELEVANT_EVENT_TYPES } from "../killbill/notification";
import type { Queues } from "../jobs/queues";
import type { Outbox } from "../mail/outbox";
import type { Logger } from "../logger";
import { billingMail, billingProblemMail, trialUsedMail } from "../mail/messages";
import type { Metrics } from "../metrics";
import type { BillingProblemStore } from "../store/billing-problem-store";
import type { InboxRow, InboxStore } from "../store/inbox-store";
import type { PaymentFailureStore } from "../store/payment-failure-store";
import type { Tenant, TenantStore } from "../store/tenant-store";
import type { TrialStore } from "../store/trial-store";
import type { AdvisoryLocks } from "../store/advisory-locks";
import type { SharedDatabaseCapacity } from "./database-capacity";

export interface BillingSyncDeps {
  inbox: InboxStore;
  tenants: TenantStore;
  problems: BillingProblemStore;
  trials: TrialStore;
  /** Admission to the shared PostgreSQL server (a full server is a billing problem). */
  capacity: SharedDatabaseCapacity;
  paymentFailures: PaymentFailureStore;
  /** Per subscription: Kill Bill is read and applied by one event at a time. */
  locks: AdvisoryLocks;
  killbill: KillBillClient;
  catalog: Catalog;
  queues: Queues;
  mail: Outbox;
  metrics: Metrics;
  logger: Logger;
  operatorEmail: string;
  /** Odoo version of tenants created from billing (Kill Bill does not carry one). */
  defaultOdooVersion: OdooVersion;
  /** Days a terminated tenant of this plan keeps its data (told in the cancellation mail). */
  dataRetentionDays: (plan: string) => number;
  /** Our own clock (trial expiry); Date.now by default. */
  now?: () => Date;
}

type MoneyReadings = Omit<BillingReadings, "subscriptionState" | "phaseType">;
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
      if (row.eventType === "INVOICE_PAYMENT_FAILED") await this.recordPaymentFailure(row);
      const ids = await this.subscriptionIds(row);
      const outcomes = [];
      const cause = `${row.eventType} (webhook ${inboxId})`;
      for (const id of ids) outcomes.push(await this.syncSubscription(id, cause));
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
              /generation|\bproblem\b|conflict/.test(
                await this.syncSubscription(s.subscriptionId, "resync"),
              )
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
      // Invoices and payments concern the account's money: every subscription of it.
      case "INVOICE":
      case "PAYMENT":
      case "ACCOUNT": {
        const accountId = row.accountId ?? row.objectId;
        const bundles = accountId ? await kb.accountBundles(accountId) : [];
        return bundles.flatMap((b) => b.subscriptions.map((s) => s.subscriptionId));
      }
      default:
        return [];
    }
  }

  /**
   * A failed collection, recorded once its invoice is read back and found open on the account the
   * event names (the event alone is never trusted).
   */
  private async recordPaymentFailure(row: InboxRow) {
    if (row.objectType !== "INVOICE" || !row.objectId) return;
    const invoice = await this.d.killbill.invoice(row.objectId);
    if (invoice && invoice.accountId === row.accountId && invoice.balance > 0)
      await this.d.paymentFailures.record(invoice.invoiceId, invoice.accountId);
  }

  /** The account's money as Kill Bill says it now: open invoices, failed collections, overdue state. */
  private async money(accountId: string): Promise<MoneyReadings & { currency: string }> {
    const kb = this.d.killbill;
    const [overdue, unpaid, failed] = await Promise.all([
      kb.overdueState(accountId),
      kb.unpaidInvoices(accountId),
      this.d.paymentFailures.invoices(accountId),
    ]);
    const open = unpaid.filter((i) => i.balance > 0);
    return {
      overdueState: overdue?.name,
      overdueBlocks: overdue?.blocks ?? false,
      unpaidBalance: open.reduce((sum, i) => sum + i.balance, 0),
      failedPaymentOpen: open.some((i) => failed.has(i.invoiceId)),
      currency: open[0]?.currency ?? "EUR",
    };
  }

  /**
   * Applies one subscription; says what happened (the inbox keeps it as the event's result). Two
   * events about it are applied one after the other, each reading Kill Bill under the lock: two
   * readings applied in the other order would leave the older one in place.
   */
  syncSubscription(subscriptionId: string, cause = "operator"): Promise<string> {
    return this.d.locks.withLock(subscriptionId, () => this.readAndApply(subscriptionId, cause));
  }

  private async readAndApply(subscriptionId: string, cause: string): Promise<string> {
    const kb = this.d.killbill;
    let subscription = await kb.subscription(subscriptionId);
    if (!subscription) return `ignored: subscription ${subscriptionId} not found`;
    const account = await kb.account(subscription.accountId);
    if (!account) return `ignored: account ${subscription.accountId} not found`;
    const money = await this.money(account.accountId);
    const now = (this.d.now ?? (() => new Date()))();
    let read = factsFromBilling(subscription, account, this.d.catalog, now, money);
    if (read.kind === "ignore") return `ignored: ${read.reason}`;
    if (read.kind === "problem")
      return this.problem(subscriptionId, account.accountId, read.tenantId ?? null, read.problem);
    // The tenant as it is before this reading: the trial policy and the admission check use it.
    const current = await this.d.tenants.get(read.facts.tenantId);
    const trial = await this.trialPolicy(subscription, account, read.facts, current);
    if (trial === "refused")
      return `refused: ${read.facts.customerId} already had its trial; subscription ${subscriptionId} cancelled`;
    if (trial === "converted") {
      subscription = (await kb.subscription(subscriptionId)) ?? subscription;
      read = factsFromBilling(subscription, account, this.d.catalog, now, money);
      if (read.kind !== "facts") return `ignored: subscription ${subscriptionId} changed meanwhile`;
    }
    const facts = read.facts;
    const placed = current && current.desiredState !== "deleted";
    if (facts.live && facts.plan && (!placed || current.spec.plan !== facts.plan)) {
      const full = await this.d.capacity.refusal({ tenantId: facts.tenantId, plan: facts.plan });
      if (full) return this.problem(subscriptionId, account.accountId, facts.tenantId, full);
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const bound = (await this.d.tenants.get(facts.tenantId))?.killbillSubscriptionId ?? null;
      facts.boundLive =
        bound && bound !== subscriptionId && facts.live
          ? isLive(await kb.subscription(bound))
          : undefined;
      const outcome = await this.d.tenants.applyBilling(
        facts,
        bound,
        { odooVersion: this.d.defaultOdooVersion },
        cause,
      );
      if (!outcome.decision) continue; // the binding moved while we read Kill Bill
      const { decision, tenant, changed, before } = outcome;
      if (decision.action === "conflict")
        return this.problem(subscriptionId, account.accountId, facts.tenantId, decision.reason);
      await this.d.problems.resolve(subscriptionId);
      if (decision.action === "ignore") return `ignored: ${decision.reason}`;
      await this.tell(before, tenant!, money);
      const status = `${tenant!.billingStatus}${trial === "converted" ? ", trial already used: started paid" : ""}`;
      if (!changed)
        return `${tenant!.id}: unchanged (${tenant!.desiredState}, ${tenant!.spec.plan}, ${status})`;
      await this.d.queues.enqueueReconcile(tenant!.id);
      return `${tenant!.id}: ${decision.action}, ${tenant!.desiredState} on ${tenant!.spec.plan}, ${status} (generation ${tenant!.desiredGeneration})`;
    }
    throw new Error(`tenant ${facts.tenantId}: its binding kept moving; retried`);
  }

  /**
   * One trial per customer, ever, decided here for every way a trial can start: a subscription in
   * its TRIAL phase, or on a trial-only plan. The customer's first one claims its trial; any later
   * one, and any subscription that brings back an instance the customer had before, is started
   * in its paid phase (Kill Bill invoices at once), or, on a trial-only plan, cancelled. The
   * customer is told either way.
   */
  private async trialPolicy(
    s: KillBillSubscription,
    account: KillBillAccount,
    facts: BillingFacts,
    tenant: Tenant | undefined,
  ): Promise<"eligible" | "converted" | "refused" | "none"> {
    const plan = this.d.catalog.plan(facts.plan);
    if (!facts.live || !plan || !(s.phaseType === "TRIAL" || plan.trialOnly)) return "none";
    // A subscription that cannot have this tenant (a billing problem) claims no trial.
    const decision = decideBilling(tenant, facts).action;
    if (decision === "conflict" || decision === "ignore") return "none";
    const returning =
      tenant?.killbillAccountId === facts.accountId &&
      !!tenant.killbillSubscriptionId &&
      tenant.killbillSubscriptionId !== s.subscriptionId;
    let why: string;
    if (returning)
      why = `${facts.tenantId} was subscribed before (subscription ${tenant!.killbillSubscriptionId}): coming back is no new trial`;
    else {
      const holder = await this.d.trials.claim({
        customerId: facts.customerId,
        subscriptionId: s.subscriptionId,
        tenantId: facts.tenantId,
      });
      if (holder.subscriptionId === s.subscriptionId) return "eligible";
      why = `customer ${facts.customerId} had its trial on ${holder.startedAt.slice(0, 10)} (${holder.tenantId}, subscription ${holder.subscriptionId})`;
    }
    if (plan.trialOnly) await this.d.killbill.cancelNow(s.subscriptionId, why);
    else await this.d.killbill.startPaidPhase(s.subscriptionId, s.planName!, why);
    this.d.logger.info(
      { subscriptionId: s.subscriptionId, tenantId: facts.tenantId, why },
      plan.trialOnly ? "trial refused" : "trial skipped: started paid",
    );
    if (account.email)
      await this.d.mail.send(
        trialUsedMail(account.email, {
          tenantId: facts.tenantId,
          plan: plan.displayName,
          returning,
          refused: plan.trialOnly,
        }),
      );
    return plan.trialOnly ? "refused" : "converted";
  }

  /** The customer's billing mails for what this reading changed. */
  private async tell(
    before: Tenant | undefined,
    after: Tenant,
    money: MoneyReadings & { currency: string },
  ) {
    const notices = billingNotices(before, after);
    if (!notices.length) return;
    if (!after.spec.adminEmail) {
      this.d.logger.warn(
        { tenantId: after.id, notices: notices.map((n) => n.kind) },
        "customer not mailed: the tenant has no admin e-mail",
      );
      return;
    }
    const { warningAfterDays, suspendAfterDays } = billingPolicy.overdue;
    for (const notice of notices)
      await this.d.mail.send(
        billingMail(notice, {
          id: after.id,
          adminEmail: after.spec.adminEmail,
          due: { amount: money.unpaidBalance, currency: money.currency },
          daysUntilSuspension: suspendAfterDays - warningAfterDays,
          dataRetentionDays: this.d.dataRetentionDays(after.spec.plan),
        }),
      );
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
      await this.d.mail.send(billingProblemMail(this.d.operatorEmail, p));
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
