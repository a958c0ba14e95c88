import type { Tenant } from "../domain/tenant";

/**
 * What the customer is told about their bill. Lifecycle mails (suspended, resumed, …) and plan
 * changes come from the reconciler, once carried out.
 */
export type BillingNotice =
  | { kind: "payment_required"; fromTrial: boolean }
  | { kind: "payment_received" }
  | { kind: "overdue" }
  | { kind: "cancellation_requested"; endsOn: string };

/**
 * The billing mails one applied Kill Bill reading calls for, from the tenant before and after.
 * Each is sent once: only a change of status, plan or end date is told.
 */
export function billingNotices(before: Tenant | undefined, after: Tenant): BillingNotice[] {
  const notices: BillingNotice[] = [];
  const was = before?.billingStatus ?? null;
  const is = after.billingStatus;
  if (is === "payment_required" && (was === "trial" || was === "paid" || was === null))
    notices.push({ kind: "payment_required", fromTrial: was === "trial" });
  // From suspended, the reconciler's "running again" mail thanks the customer.
  if (is === "paid" && (was === "payment_required" || was === "overdue"))
    notices.push({ kind: "payment_received" });
  if (is === "overdue" && was !== "overdue") notices.push({ kind: "overdue" });
  if (after.billingEndsOn && after.billingEndsOn !== before?.billingEndsOn)
    notices.push({ kind: "cancellation_requested", endsOn: after.billingEndsOn });
  return notices;
}
