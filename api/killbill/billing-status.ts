import type { BillingStatus, SuspendReason } from "../domain/tenant";

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
