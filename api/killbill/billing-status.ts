import type { SuspendReason } from "../store/tenant-store";

/**
 * Where a tenant stands with its bill, as the operator and the customer see it:
 *   trial            the subscription is in its trial phase;
 *   payment_required an invoice is open (no collection has failed yet, nothing overdue);
 *   paid             nothing is owed;
 *   overdue          Kill Bill's overdue policy has warned (the instance still runs);
 *   suspended        stopped for money: a failed payment, the overdue policy's blocking state,
 *                    or a paused bundle;
 *   ended            the subscription was cancelled or expired.
 */
export const BILLING_STATUSES = [
  "trial",
  "payment_required",
  "paid",
  "overdue",
  "suspended",
  "ended",
] as const;
export type BillingStatus = (typeof BILLING_STATUSES)[number];

/** What Kill Bill says now, re-read over REST for one subscription and its account. */
export interface BillingReadings {
  subscriptionState: "PENDING" | "ACTIVE" | "BLOCKED" | "CANCELLED" | "EXPIRED";
  phaseType: string | null;
  /** The account's overdue state name; undefined or Kill Bill's clear state when none. */
  overdueState?: string;
  /** Whether that overdue state blocks entitlement (our SUSPENDED state does, WARNING not). */
  overdueBlocks: boolean;
  /** Balance left on the account's open invoices. */
  unpaidBalance: number;
  /** A collection attempt failed on an invoice that is still open. */
  failedPaymentOpen: boolean;
}

const CLEAR = "__KILLBILL__CLEAR__OVERDUE_STATE__";

/** The billing status and, when suspended, why; the most serious reading wins. */
export function billingStatusOf(r: BillingReadings): {
  status: BillingStatus;
  suspendReason?: SuspendReason;
} {
  if (r.subscriptionState === "CANCELLED" || r.subscriptionState === "EXPIRED")
    return { status: "ended" };
  const overdue = r.overdueState !== undefined && r.overdueState !== CLEAR;
  if (overdue && r.overdueBlocks) return { status: "suspended", suspendReason: "overdue" };
  if (r.failedPaymentOpen && r.unpaidBalance > 0)
    return { status: "suspended", suspendReason: "payment_failed" };
  if (r.subscriptionState === "BLOCKED") return { status: "suspended", suspendReason: "paused" };
  if (overdue) return { status: "overdue" };
  if (r.phaseType === "TRIAL") return { status: "trial" };
  return { status: r.unpaidBalance > 0 ? "payment_required" : "paid" };
}
