/**
 * The usage a tenant is metered and billed for, defined once: the catalog's plans price them,
 * the generated Kill Bill catalog declares them, the meter measures them and records them.
 *   users      the day's peak of internal users: active, non-share `res_users` rows, the count
 *              Odoo itself bills by (portal and public users are share users; OdooBot and
 *              __system__ are inactive);
 *   storageGb  the day's peak of the database's size plus the filestore's, in GB (10^9 bytes),
 *              any part of a GB counted as one.
 */
export const USAGE_UNITS = {
  users: { killbillUnit: "internal-users", label: "internal users" },
  storageGb: { killbillUnit: "storage-gb", label: "storage (GB)" },
} as const;

export type UsageUnit = keyof typeof USAGE_UNITS;
export const USAGE_UNIT_NAMES = Object.keys(USAGE_UNITS) as UsageUnit[];

/** What one measurement of a tenant found. */
export interface UsageMeasurement {
  users: number;
  databaseBytes: number;
  filestoreBytes: number;
}

/** A measurement in the catalog's units (what is recorded and billed). */
export function usageAmounts(m: UsageMeasurement): Record<UsageUnit, number> {
  return { users: m.users, storageGb: Math.ceil((m.databaseBytes + m.filestoreBytes) / 1e9) };
}

/**
 * What Kill Bill bills a plan for a period's peak of one unit (its CAPACITY tiers): nothing up to
 * what the plan includes, else the price of the first tier that holds the peak.
 */
export function usageCharge(
  usage: {
    included: number;
    tiers: { upTo: number | null; monthlyPrice: Record<string, number> }[];
  },
  peak: number,
  currency: string,
): number {
  if (peak <= usage.included || usage.tiers.length === 0) return 0;
  const tier = usage.tiers.find((t) => t.upTo === null || peak <= t.upTo)!;
  return tier.monthlyPrice[currency];
}
