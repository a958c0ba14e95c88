import type { SuspendReason } from "../store/tenant-store";
import type { MailJob } from "../jobs/queues";

export type CustomerNotice =
  "ready" | "suspended" | "resumed" | "terminated" | "reactivated" | "deleted";

/** The customer e-mail for a lifecycle change (plain text: it reaches every mail client). */
export function customerMail(
  notice: CustomerNotice,
  t: {
    id: string;
    adminEmail: string;
    url?: string;
    suspendReason?: SuspendReason | null;
    dataKeptUntil?: string | null;
  },
): MailJob {
  const url = t.url ?? `the address of instance ${t.id}`;
  const texts: Record<CustomerNotice, [string, string]> = {
    ready: [
      `Your Odoo instance ${t.id} is ready`,
      `Your Odoo instance is ready at ${url}\n\nSign in with ${t.adminEmail}. The first time, choose\n"Reset password" on the sign-in page to set your password.\n`,
    ],
    suspended: [
      `Your Odoo instance ${t.id} is suspended`,
      `Your Odoo instance at ${url} is suspended ${SUSPENSION_REASONS[t.suspendReason ?? "overdue"]}.\nYour data is kept.\n`,
    ],
    resumed: [
      `Your Odoo instance ${t.id} is running again`,
      `Thank you. Your Odoo instance is available again at ${url}\n`,
    ],
    terminated: [
      `Your Odoo instance ${t.id} has been stopped`,
      `Your subscription has ended and your Odoo instance ${t.id} has been stopped.\n\n` +
        `Your data is kept until ${day(t.dataKeptUntil)}. Until then, subscribing again brings the\n` +
        "instance back exactly as it was.\n\nTo take your data with you, reply to this e-mail and ask for the export: an Odoo\n" +
        "backup file (database and attachments) that any Odoo of the same version can restore\n" +
        "from its database manager.\n",
    ],
    reactivated: [
      `Your Odoo instance ${t.id} is back`,
      `Welcome back. Your Odoo instance is available again at ${url}, with all your data.\n`,
    ],
    deleted: [
      `Your Odoo instance ${t.id} has been removed`,
      `Your Odoo instance ${t.id} has been removed. A final backup of it is kept for a limited\n` +
        "time; contact support if you need it.\n",
    ],
  };
  const [subject, text] = texts[notice];
  return { to: t.adminEmail, subject, text };
}

const day = (iso?: string | null) => (iso ? iso.slice(0, 10) : "the end of the grace period");

/** The real reason, in the customer's terms, and how the instance comes back. */
const SUSPENSION_REASONS: Record<SuspendReason, string> = {
  overdue: "because of an unpaid balance. It starts again as soon as the balance is paid",
  paused: "because your subscription is paused. It starts again when the subscription resumes",
  operator: "by our operations team. Please contact support; it starts again once they release it",
};

/** Operators learn of a subscription that bills a customer who has (or may have) no instance. */
export function billingProblemMail(
  to: string,
  p: { subscriptionId: string; accountId: string | null; tenantId: string | null; problem: string },
): MailJob {
  return {
    to,
    subject: `[odoo-saas] billing problem: subscription ${p.subscriptionId}`,
    text:
      `Kill Bill subscription ${p.subscriptionId} (account ${p.accountId ?? "unknown"}` +
      `${p.tenantId ? `, tenant ${p.tenantId}` : ""}) has no instance of its own:\n\n${p.problem}\n\n` +
      "Fix it in Kill Bill (the next event or resync picks it up), or see GET /admin/billing/problems.\n",
  };
}

export function operatorFailureMail(
  to: string,
  tenantId: string,
  error: string,
  operationId?: string,
): MailJob {
  return {
    to,
    subject: `[odoo-saas] reconcile of ${tenantId} failed`,
    text: `Tenant ${tenantId} could not be reconciled${operationId ? ` (operation ${operationId})` : ""}:\n\n${error}\n`,
  };
}
