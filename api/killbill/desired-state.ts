import type { Catalog } from "../../catalog";
import type { BillingFacts } from "./binding";
import { billingStatusOf, type BillingReadings } from "./billing-status";
import type { KillBillAccount, KillBillSubscription } from "./client";
import { customerIdFromAccount, tenantIdFromBundle } from "./identity";

export type FactsFromBilling =
  | { kind: "facts"; facts: BillingFacts }
  /** Billed, but no instance can follow from it: an operator must see it. */
  | { kind: "problem"; problem: string; tenantId?: string }
  | { kind: "ignore"; reason: string };

const DAY_MS = 86_400_000;

/**
 * What a subscription and its account, as re-read over REST (never the event itself), say about
 * the tenant the bundle names. Identity: the bundle's external key is the tenant id (lower-cased);
 * the account's external key (or id) gives the customer id; the account's e-mail the admin e-mail.
 *   PENDING / ACTIVE -> active on the tier of its planName, unless the billing status (from the
 *   account's invoices, failed payments and overdue state) is suspended -> suspended;
 *   CANCELLED / EXPIRED -> terminated (stopped, data kept for the plan's retention days; only the
 *   retention job deletes). A trial-only plan past its days counts as expired by our own clock
 *   too (Kill Bill 0.22 does not expire FIXEDTERM phases).
 */
export function factsFromBilling(
  subscription: KillBillSubscription,
  account: KillBillAccount,
  catalog: Catalog,
  now: Date,
  money: Omit<BillingReadings, "subscriptionState" | "phaseType">,
): FactsFromBilling {
  const tenantId = tenantIdFromBundle(subscription.bundleExternalKey, subscription.bundleId);
  const live = ["PENDING", "ACTIVE", "BLOCKED"].includes(subscription.state);
  if (typeof tenantId !== "string")
    return live
      ? { kind: "problem", problem: tenantId.problem }
      : { kind: "ignore", reason: tenantId.problem };
  const plan = subscription.planName ? catalog.planForKillBill(subscription.planName) : undefined;
  if (!plan && live)
    return {
      kind: "problem",
      tenantId,
      problem: `plan "${subscription.planName}" is not in the catalog`,
    };
  const trialOver =
    plan?.trialOnly &&
    subscription.startDate &&
    now.getTime() >= Date.parse(subscription.startDate) + plan.trialDays * DAY_MS;
  const { status, suspendReason } = billingStatusOf({
    ...money,
    subscriptionState: subscription.state,
    // A trial-only plan's single phase is FIXEDTERM in Kill Bill: it is a trial all the same.
    phaseType: plan?.trialOnly ? "TRIAL" : subscription.phaseType,
  });
  const billingState =
    !live || trialOver ? "terminated" : status === "suspended" ? "suspended" : "active";
  return {
    kind: "facts",
    facts: {
      tenantId,
      subscriptionId: subscription.subscriptionId,
      accountId: account.accountId,
      customerId: customerIdFromAccount(account.externalKey, account.accountId),
      plan: plan?.id ?? "",
      billingState,
      billingStatus: trialOver ? "ended" : status,
      ...(suspendReason ? { suspendReason } : {}),
      // A requested cancellation: the subscription runs until this day.
      endsOn: live && !trialOver && subscription.cancelledDate ? subscription.cancelledDate : null,
      adminEmail: account.email?.trim() || null,
      live: live && !trialOver,
    },
  };
}
