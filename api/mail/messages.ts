import type { MailJob } from "../jobs/queues";

export type CustomerNotice = "ready" | "suspended" | "resumed" | "deleted";

/** The customer e-mail for a lifecycle change (plain text: it reaches every mail client). */
export function customerMail(
  notice: CustomerNotice,
  t: { id: string; adminEmail: string; url?: string },
): MailJob {
  const url = t.url ?? `the address of instance ${t.id}`;
  const texts: Record<CustomerNotice, [string, string]> = {
    ready: [
      `Your Odoo instance ${t.id} is ready`,
      `Your Odoo instance is ready at ${url}\n\nSign in with ${t.adminEmail}. The first time, choose\n"Reset password" on the sign-in page to set your password.\n`,
    ],
    suspended: [
      `Your Odoo instance ${t.id} is suspended`,
      `Your Odoo instance at ${url} is suspended because of an unpaid balance.\nYour data is kept. It starts again as soon as the balance is paid.\n`,
    ],
    resumed: [
      `Your Odoo instance ${t.id} is running again`,
      `Thank you. Your Odoo instance is available again at ${url}\n`,
    ],
    deleted: [
      `Your Odoo instance ${t.id} has been removed`,
      `Your subscription has ended and your Odoo instance ${t.id} has been removed with its data.\n`,
    ],
  };
  const [subject, text] = texts[notice];
  return { to: t.adminEmail, subject, text };
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
