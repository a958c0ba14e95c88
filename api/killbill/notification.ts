import { z } from "zod";

/** The 30 ExtBusEventType values Kill Bill 0.24 pushes. */
export const KILLBILL_EVENT_TYPES = [
  "ACCOUNT_CREATION",
  "ACCOUNT_CHANGE",
  "BLOCKING_STATE",
  "BROADCAST_SERVICE",
  "SUBSCRIPTION_CREATION",
  "SUBSCRIPTION_PHASE",
  "SUBSCRIPTION_CHANGE",
  "SUBSCRIPTION_CANCEL",
  "SUBSCRIPTION_UNCANCEL",
  "SUBSCRIPTION_BCD_CHANGE",
  "SUBSCRIPTION_QUANTITY",
  "SUBSCRIPTION_EXPIRED",
  "ENTITLEMENT_CREATION",
  "ENTITLEMENT_CANCEL",
  "BUNDLE_PAUSE",
  "BUNDLE_RESUME",
  "OVERDUE_CHANGE",
  "INVOICE_CREATION",
  "INVOICE_ADJUSTMENT",
  "INVOICE_NOTIFICATION",
  "INVOICE_PAYMENT_SUCCESS",
  "INVOICE_PAYMENT_FAILED",
  "PAYMENT_SUCCESS",
  "PAYMENT_FAILED",
  "TAG_CREATION",
  "TAG_DELETION",
  "CUSTOM_FIELD_CREATION",
  "CUSTOM_FIELD_DELETION",
  "TENANT_CONFIG_CHANGE",
  "TENANT_CONFIG_DELETION",
] as const;

/** Events that can move a tenant's desired state: they make us re-read the subscription. */
export const RELEVANT_EVENT_TYPES = new Set<string>([
  // The account's external key or e-mail may have changed: its subscriptions are read again.
  "ACCOUNT_CHANGE",
  "SUBSCRIPTION_CREATION",
  "SUBSCRIPTION_PHASE",
  "SUBSCRIPTION_CHANGE",
  "SUBSCRIPTION_CANCEL",
  "SUBSCRIPTION_UNCANCEL",
  "SUBSCRIPTION_EXPIRED",
  "ENTITLEMENT_CREATION",
  "ENTITLEMENT_CANCEL",
  "BUNDLE_PAUSE",
  "BUNDLE_RESUME",
  "BLOCKING_STATE",
  "OVERDUE_CHANGE",
  // The account's money: its billing status (payment required, paid, failed) is read again.
  "INVOICE_CREATION",
  "INVOICE_ADJUSTMENT",
  "INVOICE_PAYMENT_SUCCESS",
  "INVOICE_PAYMENT_FAILED",
]);

const uuidOrNull = z.string().max(64).nullable();

/**
 * Kill Bill's NotificationJson: exactly these five fields. `metaData` is a string: for most events
 * a JSON object encoded again (parsed here), for some (TENANT_CONFIG_CHANGE, TAG_CREATION, ...)
 * plain text, kept as `{ text }`. Unknown event types are accepted (stored, then ignored).
 */
export const notificationSchema = z.strictObject({
  eventType: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Z_]+$/, "an upper-case event type"),
  objectType: z.string().max(64).nullable(),
  objectId: uuidOrNull,
  accountId: uuidOrNull,
  metaData: z
    .string()
    .max(16384)
    .nullable()
    .transform((text) => {
      if (text === null || text === "") return null;
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed))
          return parsed as Record<string, unknown>;
      } catch {
        // plain text: below
      }
      return { text };
    }),
});

export type Notification = z.output<typeof notificationSchema>;
