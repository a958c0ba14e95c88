import type { SuspendReason } from "../domain/tenant";
import type { Mail } from "../domain/mail";
import type { BillingNotice } from "../killbill/billing-notices";

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
): Mail {
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
  payment_failed:
    "because a payment failed. It starts again as soon as the open invoice is paid\n(update your payment method or pay the invoice)",
};

const money = (amount: number, currency: string) => `${amount.toFixed(2)} ${currency}`;

/** The customer e-mail for a billing change of tenant `id`. */
export function billingMail(
  notice: BillingNotice,
  t: {
    id: string;
    adminEmail: string;
    /** Balance of the account's open invoices. */
    due: { amount: number; currency: string };
    /** Days from the overdue warning to the suspension. */
    daysUntilSuspension: number;
    dataRetentionDays: number;
  },
): Mail {
  const texts: Record<BillingNotice["kind"], () => [string, string]> = {
    payment_required: () => [
      `Payment due for your Odoo instance ${t.id}`,
      (notice.kind === "payment_required" && notice.fromTrial
        ? `Your free trial of ${t.id} has ended. `
        : "") +
        `An invoice is open: ${money(t.due.amount, t.due.currency)} is due.\n` +
        "Your instance keeps running while you pay it.\n",
    ],
    payment_received: () => [
      `Payment received for your Odoo instance ${t.id}`,
      `Thank you: your payment was received and nothing is due for ${t.id}.\n`,
    ],
    overdue: () => [
      `Overdue invoice for your Odoo instance ${t.id}`,
      `${money(t.due.amount, t.due.currency)} is overdue. Please pay it within ${t.daysUntilSuspension} days,\n` +
        `or your Odoo instance ${t.id} will be suspended (your data is kept).\n`,
    ],
    cancellation_requested: () => {
      const n = notice as Extract<BillingNotice, { kind: "cancellation_requested" }>;
      return [
        `Your Odoo subscription for ${t.id} ends on ${n.endsOn}`,
        `Your cancellation is recorded. ${t.id} keeps running until ${n.endsOn}.\n\n` +
          `After that it is stopped and its data kept for ${t.dataRetentionDays} days: subscribing again\n` +
          "within that time brings it back as it was, and you can ask for an export of your data.\n",
      ];
    },
  };
  const [subject, text] = texts[notice.kind]();
  return { to: t.adminEmail, subject, text };
}

/**
 * A plan change, told once it has been carried out (the instance answers on the new plan), or, when
 * it could not be, that it is delayed and the instance runs as before meanwhile.
 */
export function planChangeMail(
  outcome: "done" | "delayed",
  t: { id: string; adminEmail: string; from: string; to: string; url?: string },
): Mail {
  return outcome === "done"
    ? {
        to: t.adminEmail,
        subject: `Your Odoo instance ${t.id} now runs on the ${t.to} plan`,
        text:
          `Your instance ${t.id} moved from the ${t.from} plan to the ${t.to} plan and runs on it now` +
          `${t.url ? ` at ${t.url}` : ""}.\nYour data is as it was.\n`,
      }
    : {
        to: t.adminEmail,
        subject: `Your move to the ${t.to} plan is delayed`,
        text:
          `Your instance ${t.id} could not be moved to the ${t.to} plan yet. Our operations team has\n` +
          `been alerted and is on it. Meanwhile ${t.id} keeps running on the ${t.from} plan with all\n` +
          "your data; you will get another e-mail once the move is done.\n",
      };
}

/** A customer who asked for a second trial (or a trial to come back): refused, or started paid. */
export function trialUsedMail(
  to: string,
  t: { tenantId: string; plan: string; returning: boolean; refused: boolean },
): Mail {
  return {
    to,
    subject: t.refused
      ? "Your free trial has already been used"
      : `Your Odoo instance ${t.tenantId} starts on a paid plan`,
    text:
      (t.returning
        ? `Welcome back: ${t.tenantId} was yours before, so it comes back without a new trial.\n`
        : "Your account has already had its free trial; each customer has one.\n") +
      (t.refused
        ? `No trial instance was started for ${t.tenantId}. Choose a paid plan to continue.\n`
        : `Your ${t.plan} subscription for ${t.tenantId} therefore starts paid today.\n`),
  };
}

export function billingProblemMail(
  to: string,
  p: { subscriptionId: string; accountId: string | null; tenantId: string | null; problem: string },
): Mail {
  return {
    to,
    subject: `[odoo-saas] billing problem: subscription ${p.subscriptionId}`,
    text:
      `Kill Bill subscription ${p.subscriptionId} (account ${p.accountId ?? "unknown"}` +
      `${p.tenantId ? `, tenant ${p.tenantId}` : ""}) has no instance of its own:\n\n${p.problem}\n\n` +
      "Fix it in Kill Bill (the next event or resync picks it up), or see GET /admin/billing/problems.\n",
  };
}

/** Billing work that keeps failing, set aside and retried on its own. */
export function billingQuarantineMail(
  to: string,
  q: {
    kind: string;
    subjectId: string;
    accountId: string | null;
    reason: string;
    attempts: number;
    nextAttemptAt: string;
  },
): Mail {
  return {
    to,
    subject: `[odoo-saas] billing ${q.kind} ${q.subjectId} quarantined`,
    text:
      `Applying Kill Bill ${q.kind} ${q.subjectId}${q.accountId ? ` (account ${q.accountId})` : ""} failed ` +
      `${q.attempts} times:\n\n${q.reason}\n\nEverything else goes on. It is retried with growing delays ` +
      `(next at ${q.nextAttemptAt}) until it succeeds; see GET /admin/billing/problems.\n`,
  };
}

export function operatorFailureMail(
  to: string,
  tenantId: string,
  error: string,
  operationId?: string,
): Mail {
  return {
    to,
    subject: `[odoo-saas] reconcile of ${tenantId} failed`,
    text: `Tenant ${tenantId} could not be reconciled${operationId ? ` (operation ${operationId})` : ""}:\n\n${error}\n`,
  };
}

/** Tenants a drain cannot move off a node: they keep running there, and the node stays marked. */
export function operatorNodeMail(
  to: string,
  node: string,
  stuck: { tenantId: string; reason: string }[],
): Mail {
  return {
    to,
    subject: `[odoo-saas] ${stuck.length} tenant(s) cannot leave node ${node}`,
    text:
      `Draining node ${node}: these tenants cannot be moved off it, so it is not drained (they run on there):\n\n` +
      stuck.map((s) => `- ${s.tenantId}: ${s.reason}`).join("\n") +
      "\n",
  };
}

/** The monitoring's heartbeats stopped: no alert reaches anyone until it is back. */
export function monitoringSilentMail(to: string, last: Date | null, silentSeconds: number): Mail {
  const since = last ? `since ${last.toISOString()}` : "since the API started watching";
  return {
    to,
    subject: "[odoo-saas] FIRING: MonitoringSilent: no alert can reach you",
    text:
      `Alertmanager's heartbeat (the always-firing Watchdog alert) has not reached the API ${since} ` +
      `(${Math.round(silentSeconds)} s). Prometheus or Alertmanager is down, or cannot reach the ` +
      `API: until it is back, nothing (a tenant down, a backup missing, a disk filling) is alerted.\n\n` +
      `First step: docker service ps (or docker ps) for the prometheus and alertmanager services, ` +
      `and their logs. A mail follows when the heartbeats arrive again.\n`,
  };
}

export function monitoringBackMail(to: string, silenceMailedAt: Date): Mail {
  return {
    to,
    subject: "[odoo-saas] RESOLVED: MonitoringSilent: alerts reach you again",
    text:
      `Alertmanager's heartbeats reach the API again (the silence was mailed at ` +
      `${silenceMailedAt.toISOString()}). Alerts that fired meanwhile are mailed now if they still hold.\n`,
  };
}

/** A tenant at or past a cap of its plan: what it means for the customer, and what to do. */
export function usageLimitMail(t: {
  to: string;
  tenantId: string;
  plan: string;
  unit: string;
  amount: number;
  cap: number;
  blocked: boolean;
}): Mail {
  return {
    to: t.to,
    subject: `Your Odoo instance ${t.tenantId} has reached its plan's ${t.unit}`,
    text:
      `Your instance ${t.tenantId} has ${t.amount} ${t.unit}; the ${t.plan} plan allows ${t.cap}.\n` +
      (t.blocked
        ? "Everything stays readable, but no more can be added until you remove some or choose a\n" +
          "larger plan.\n"
        : "It keeps working as before; what is beyond your plan is billed with your next invoice,\n" +
          "at your plan's usage prices. A larger plan may cost less.\n"),
  };
}
