import { billingPolicy, type Catalog } from "../../catalog";
import type { OdooVersion } from "../../components/tenant/odoo-versions";
import type { KillBillAccount, KillBillClient, KillBillSubscription } from "../killbill/client";
import { billingNotices } from "../killbill/billing-notices";
import type { BillingReadings } from "../killbill/billing-status";
import { factsFromBilling } from "../killbill/desired-state";
import {
  billingChange,
  decideBilling,
  type BillingDecision,
  type BillingFacts,
} from "../killbill/binding";
import { RELEVANT_EVENT_TYPES } from "../killbill/notification";
import type { Queues } from "../jobs/queues";
import type { Mail } from "../domain/mail";
import type { Outbox } from "../mail/outbox";
import type { Logger } from "../common/logger";
import {
  billingMail,
  billingProblemMail,
  billingQuarantineMail,
  trialUsedMail,
} from "../mail/messages";
import type { Metrics } from "../common/metrics";
import type { BillingProblemStore } from "../store/billing-problem-store";
import type {
  BillingQuarantineStore,
  QuarantineEntry,
  QuarantineKind,
} from "../store/billing-quarantine-store";
import type { InboxRow, InboxStore } from "../store/inbox-store";
import type { PaymentFailureStore } from "../store/payment-failure-store";
import type { TenantStore } from "../store/tenant-store";
import { billingBasis, type Tenant } from "../domain/tenant";
import type { TrialStore } from "../store/trial-store";
import type { AdvisoryLocks } from "../store/advisory-locks";
import type { TenantAdmission } from "./tenant-admission";

export interface BillingSyncDeps {
  inbox: InboxStore;
  tenants: TenantStore;
  problems: BillingProblemStore;
  quarantine: BillingQuarantineStore;
  trials: TrialStore;
  /** What the platform can run (a full server, a plan no node takes, is a billing problem). */
  admission: TenantAdmission;
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

/** What applying one subscription did: whether a tenant's desired state changed, and in words. */
export interface SyncOutcome {
  changed: boolean;
  /** Billing work that failed and was set aside to be retried on its own. */
  quarantined?: boolean;
  text: string;
}

/** What a resync read, changed, and could not read (each set aside and retried on its own). */
export interface ResyncReport {
  accounts: number;
  subscriptions: number;
  changed: number;
  failed: { kind: QuarantineKind; id: string; reason: string }[];
}

type MoneyReadings = Omit<BillingReadings, "subscriptionState" | "phaseType">;
const isLive = (s: KillBillSubscription | undefined) =>
  !!s && ["PENDING", "ACTIVE", "BLOCKED"].includes(s.state);
const said = (text: string, changed = false): SyncOutcome => ({ changed, text });
/** Operators are mailed once a unit has failed this many times in a row (not for a blip). */
const NOTIFY_AFTER_ATTEMPTS = 3;

/**
 * Turns Kill Bill's state into desired state. An event is only a hint: the subscriptions it may
 * concern are re-read from Kill Bill and each applied under the binding rules (a tenant follows the
 * one subscription it is bound to; see killbill/binding.ts), so duplicates, reordering, retries and
 * account-level events re-reading old subscriptions can never cause a wrong action.
 *
 * Bulkheads: each subscription is applied on its own. One that fails (Kill Bill refusing a write,
 * answering 5xx or not at all for it) is quarantined with its reason and retried with backoff,
 * while the event's other subscriptions, and every other event, go on.
 */
export class BillingSync {
  constructor(private readonly d: BillingSyncDeps) {
    d.metrics.billingQuarantineSource.count = () => d.quarantine.countOpen();
  }

  /**
   * Applies one stored webhook. If what it concerns cannot even be read (its invoice, its
   * account's bundles), the event itself is quarantined and stays unprocessed until its retry.
   */
  async process(inboxId: string): Promise<string> {
    const row = await this.d.inbox.get(inboxId);
    if (!row || row.processedAt) return "already processed";
    await this.d.inbox.attempt(inboxId);
    let result: string;
    if (!RELEVANT_EVENT_TYPES.has(row.eventType))
      result = `ignored: ${row.eventType} does not affect tenants`;
    else {
      const cause = `${row.eventType} (webhook ${inboxId})`;
      let ids: string[];
      try {
        if (row.eventType === "INVOICE_PAYMENT_FAILED") await this.recordPaymentFailure(row);
        ids = await this.subscriptionIds(row);
      } catch (e) {
        const reason = (e as Error).message;
        await this.failed({
          kind: "event",
          subjectId: inboxId,
          accountId: row.accountId,
          reason,
          cause,
        });
        this.d.logger.warn(
          { inboxId, eventType: row.eventType, error: reason },
          "webhook quarantined",
        );
        return `quarantined: ${reason}`;
      }
      const outcomes: SyncOutcome[] = [];
      for (const id of ids) outcomes.push(await this.contained(id, cause, row.accountId));
      result = outcomes.length
        ? outcomes.map((o) => o.text).join("; ")
        : "ignored: no subscription";
    }
    await this.d.inbox.markProcessed(inboxId, result);
    await this.d.quarantine.resolve("event", inboxId);
    this.d.logger.info({ inboxId, eventType: row.eventType, result }, "webhook processed");
    return result;
  }

  /**
   * Every subscription of every account, page by page: what a missed event would have said. An
   * account or subscription that cannot be read or applied is reported and quarantined; every
   * other one is still visited.
   */
  async resync(pageSize = 100): Promise<ResyncReport> {
    const report: ResyncReport = { accounts: 0, subscriptions: 0, changed: 0, failed: [] };
    for (let offset = 0; ; offset += pageSize) {
      const page = await this.d.killbill.accounts(offset, pageSize);
      for (const account of page) {
        report.accounts++;
        const read = await this.syncAccount(account.accountId, "resync");
        if ("failure" in read) {
          report.failed.push({ kind: "account", id: account.accountId, reason: read.failure });
          continue;
        }
        for (const [id, o] of read.outcomes) {
          report.subscriptions++;
          if (o.changed) report.changed++;
          if (o.quarantined) report.failed.push({ kind: "subscription", id, reason: o.text });
        }
      }
      if (page.length < pageSize) break;
    }
    await this.updateProblemGauge();
    return report;
  }

  /** Retries a quarantined unit whose time has come (the sweeper queues them). */
  async retry(entry: Pick<QuarantineEntry, "kind" | "subjectId" | "accountId">): Promise<void> {
    if (entry.kind === "event") await this.process(entry.subjectId);
    else if (entry.kind === "account") await this.syncAccount(entry.subjectId, "retry");
    else await this.contained(entry.subjectId, "retry", entry.accountId);
  }

  /**
   * Every subscription of one account, each on its own; the account is quarantined (with the
   * reason said) when its bundles cannot be read.
   */
  private async syncAccount(
    accountId: string,
    cause: string,
  ): Promise<{ outcomes: [string, SyncOutcome][] } | { failure: string }> {
    let subscriptions: string[];
    try {
      const bundles = await this.d.killbill.accountBundles(accountId);
      subscriptions = bundles.flatMap((b) => b.subscriptions.map((s) => s.subscriptionId));
    } catch (e) {
      const reason = (e as Error).message;
      await this.failed({ kind: "account", subjectId: accountId, accountId, reason, cause });
      this.d.logger.warn({ accountId, cause, error: reason }, "account quarantined");
      return { failure: reason };
    }
    await this.d.quarantine.resolve("account", accountId);
    const outcomes: [string, SyncOutcome][] = [];
    for (const id of subscriptions) outcomes.push([id, await this.contained(id, cause, accountId)]);
    return { outcomes };
  }

  /** One subscription, its failure contained: quarantined with its reason, never thrown. */
  private async contained(
    subscriptionId: string,
    cause: string,
    accountId: string | null,
  ): Promise<SyncOutcome> {
    try {
      const outcome = await this.syncSubscription(subscriptionId, cause);
      await this.d.quarantine.resolve("subscription", subscriptionId);
      return outcome;
    } catch (e) {
      const reason = (e as Error).message;
      const entry = await this.failed({
        kind: "subscription",
        subjectId: subscriptionId,
        accountId,
        reason,
        cause,
      });
      this.d.logger.warn({ subscriptionId, cause, error: reason }, "subscription quarantined");
      return {
        changed: false,
        quarantined: true,
        text: `quarantined: subscription ${subscriptionId}: ${reason} (retried at ${entry.nextAttemptAt})`,
      };
    }
  }

  /** A unit failed again: set aside with its reason; operators are told once it persists. */
  private async failed(e: {
    kind: QuarantineKind;
    subjectId: string;
    accountId: string | null;
    reason: string;
    cause: string;
    tenantId?: string;
  }): Promise<QuarantineEntry> {
    const { entry, notified } = await this.d.quarantine.fail(e);
    if (!notified && entry.attempts >= NOTIFY_AFTER_ATTEMPTS) {
      await this.d.mail.send(billingQuarantineMail(this.d.operatorEmail, entry));
      await this.d.quarantine.markNotified(entry.key);
    }
    return entry;
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
   * readings applied in the other order would leave the older one in place. Throws when Kill Bill
   * cannot be read or refuses a write (the caller contains it).
   */
  syncSubscription(subscriptionId: string, cause = "operator"): Promise<SyncOutcome> {
    return this.d.locks.withLock(subscriptionId, () => this.readAndApply(subscriptionId, cause));
  }

  private async readAndApply(subscriptionId: string, cause: string): Promise<SyncOutcome> {
    const kb = this.d.killbill;
    let subscription = await kb.subscription(subscriptionId);
    if (!subscription) return said(`ignored: subscription ${subscriptionId} not found`);
    if (subscription.state === "PENDING") return this.notStarted(subscription);
    const account = await kb.account(subscription.accountId);
    if (!account) return said(`ignored: account ${subscription.accountId} not found`);
    const money = await this.money(account.accountId);
    const now = (this.d.now ?? (() => new Date()))();
    let read = factsFromBilling(subscription, account, this.d.catalog, now, money);
    if (read.kind === "ignore") return said(`ignored: ${read.reason}`);
    if (read.kind === "problem")
      return this.problem(subscriptionId, account.accountId, read.tenantId ?? null, read.problem);
    // The tenant as it is before this reading: the trial policy and the admission check use it.
    const current = await this.d.tenants.get(read.facts.tenantId);
    const decision = decideBilling(current, read.facts);
    const placed = current && current.desiredState !== "deleted";
    const facts = read.facts;
    // What the platform cannot run is refused before Kill Bill is written (the trial policy) or a
    // tenant is created: a billing problem for an operator, never a failing engine run.
    if (
      facts.live &&
      facts.plan &&
      decision.action !== "ignore" &&
      decision.action !== "conflict" &&
      (!placed || current.spec.plan !== facts.plan)
    ) {
      const refused = await this.d.admission.refusal({
        tenantId: facts.tenantId,
        plan: facts.plan,
      });
      if (refused) return this.problem(subscriptionId, account.accountId, facts.tenantId, refused);
    }
    const trial = await this.trialPolicy(subscription, account, facts, current, decision);
    if (trial === "refused")
      return said(
        `refused: ${facts.customerId} already had its trial; subscription ${subscriptionId} cancelled`,
      );
    if (trial === "converted") {
      subscription = (await kb.subscription(subscriptionId)) ?? subscription;
      read = factsFromBilling(subscription, account, this.d.catalog, now, money);
      if (read.kind !== "facts")
        return said(`ignored: subscription ${subscriptionId} changed meanwhile`);
    }
    return this.apply(read.facts, money, cause, trial === "converted");
  }

  /**
   * A subscription that starts later (Kill Bill's PENDING: a future entitlement date): nothing
   * runs and no trial is claimed until it starts. It is read again then (and by every resync).
   */
  private async notStarted(s: KillBillSubscription): Promise<SyncOutcome> {
    const startsAt = s.startDate ? Date.parse(s.startDate) : NaN;
    if (Number.isFinite(startsAt))
      await this.d.queues.enqueueSubscriptionCheck(s.subscriptionId, new Date(startsAt + 60_000));
    return said(
      `not started: subscription ${s.subscriptionId} starts on ${s.startDate?.slice(0, 10) ?? "a later date"}; nothing runs until then`,
    );
  }

  /** Writes what the reading says under the binding rules; retried when the binding moves meanwhile. */
  private async apply(
    facts: BillingFacts,
    money: MoneyReadings & { currency: string },
    cause: string,
    converted: boolean,
  ): Promise<SyncOutcome> {
    const kb = this.d.killbill;
    for (let attempt = 0; attempt < 3; attempt++) {
      const read = await this.d.tenants.get(facts.tenantId);
      const bound = read?.killbillSubscriptionId ?? null;
      facts.boundLive =
        bound && bound !== facts.subscriptionId && facts.live
          ? isLive(await kb.subscription(bound))
          : undefined;
      // Decided here, once, on the tenant as read; written only while it is still so.
      const { decision, write } = billingChange(read, facts, {
        odooVersion: this.d.defaultOdooVersion,
      });
      if (decision.action === "conflict")
        return this.problem(facts.subscriptionId, facts.accountId, facts.tenantId, decision.reason);
      await this.d.problems.resolve(facts.subscriptionId);
      if (decision.action === "ignore") return said(`ignored: ${decision.reason}`);
      if (!write) continue;
      const outcome = await this.d.tenants.writeBilling(write, billingBasis(read), cause, (b, a) =>
        this.mailsFor(b, a, money),
      );
      if (!outcome) continue; // the tenant changed while we read Kill Bill: decide again
      const { tenant } = outcome;
      const changed = write.changed;
      const status = `${tenant.billingStatus}${converted ? ", trial already used: started paid" : ""}`;
      // The desired state and the customer's mails about it are stored (one transaction): each
      // is queued now, or by the sweeper if Redis does not take it.
      if (changed) await this.d.queues.enqueueReconcile(tenant.id, { promote: true });
      for (const id of outcome.mailIds) await this.d.queues.requestMail(id);
      if (!changed)
        return said(
          `${tenant.id}: unchanged (${tenant.desiredState}, ${tenant.spec.plan}, ${status})`,
        );
      return said(
        `${tenant.id}: ${decision.action}, ${tenant.desiredState} on ${tenant.spec.plan}, ${status} (generation ${tenant.desiredGeneration})`,
        true,
      );
    }
    throw new Error(`tenant ${facts.tenantId}: its binding kept moving; retried`);
  }

  /**
   * One trial per customer, ever, decided here for every way a trial can start: a subscription in
   * its TRIAL phase, or on a trial-only plan. The customer's first one claims its trial; any later
   * one, and any subscription that brings back an instance the customer had before, is started
   * in its paid phase (Kill Bill invoices at once), or, on a trial-only plan, cancelled. The
   * customer is told either way. Only a running (ACTIVE) subscription: Kill Bill refuses changes
   * to one not started (PENDING) or blocked, whose trial is decided when it runs.
   */
  private async trialPolicy(
    s: KillBillSubscription,
    account: KillBillAccount,
    facts: BillingFacts,
    tenant: Tenant | undefined,
    /** This reading's decision (a subscription that cannot have the tenant claims no trial). */
    decision: BillingDecision,
  ): Promise<"eligible" | "converted" | "refused" | "none"> {
    const plan = this.d.catalog.plan(facts.plan);
    if (
      !facts.live ||
      s.state !== "ACTIVE" ||
      !plan ||
      !(s.phaseType === "TRIAL" || plan.trialOnly)
    )
      return "none";
    if (decision.action === "conflict" || decision.action === "ignore") return "none";
    const returning =
      tenant?.killbillAccountId === facts.accountId &&
      !!tenant.killbillSubscriptionId &&
      tenant.killbillSubscriptionId !== s.subscriptionId;
    let why: string;
    if (returning)
      why = `${facts.tenantId} was subscribed before (subscription ${tenant.killbillSubscriptionId}): coming back is no new trial`;
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

  /** The customer's billing mails for what a reading changed (written with it). */
  private mailsFor(
    before: Tenant | undefined,
    after: Tenant,
    money: MoneyReadings & { currency: string },
  ): Mail[] {
    const notices = billingNotices(before, after);
    if (!notices.length) return [];
    if (!after.spec.adminEmail) {
      this.d.logger.warn(
        { tenantId: after.id, notices: notices.map((n) => n.kind) },
        "customer not mailed: the tenant has no admin e-mail",
      );
      return [];
    }
    const { warningAfterDays, suspendAfterDays } = billingPolicy.overdue;
    return notices.map((notice) =>
      billingMail(notice, {
        id: after.id,
        adminEmail: after.spec.adminEmail!,
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
  ): Promise<SyncOutcome> {
    const p = { subscriptionId, accountId, tenantId, problem };
    if (await this.d.problems.report(p)) {
      await this.d.mail.send(billingProblemMail(this.d.operatorEmail, p));
      await this.d.problems.markNotified(subscriptionId);
      this.d.logger.warn(p, "billing problem");
    }
    await this.updateProblemGauge();
    return said(`problem: ${problem}`, true);
  }

  private async updateProblemGauge() {
    this.d.metrics.billingProblems.set(await this.d.problems.countOpen());
  }
}
