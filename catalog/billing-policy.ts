/**
 * Billing settings shared by every plan: the Kill Bill catalog identity and the overdue policy.
 * `catalogName` must never change once uploaded (Kill Bill rejects a different name for the same
 * tenant); bump `effectiveDate` whenever plans or prices change so Kill Bill stores a new version.
 */
export const billingPolicy = {
  catalogName: "OdooHosting",
  effectiveDate: "2026-12-01T00:00:00+00:00",
  /** Plan changes take effect at once (the instance is resized right away). */
  changePolicy: "IMMEDIATE",
  /** Cancellation takes effect at the end of the paid term; the instance is removed then. */
  cancelPolicy: "END_OF_TERM",
  overdue: {
    /** Days since the earliest unpaid invoice before the customer is warned (no blocking). */
    warningAfterDays: 3,
    /** Days since the earliest unpaid invoice before the instance is suspended. */
    suspendAfterDays: 14,
    /** How often Kill Bill re-evaluates an account, so time-based transitions happen on time. */
    reevaluationIntervalDays: 1,
  },
} as const;
