import type { z } from "zod";
import type { planSchema } from "./plan-schema";

/**
 * The plan tiers: the one source of truth for what a customer gets. Infrastructure limits
 * (components/) and billing (the generated Kill Bill catalog) are both derived from this list.
 * Validated by loadCatalog(); edit here, then run `npm run catalog:xml`.
 */
export const planData: z.input<typeof planSchema>[] = [
  {
    id: "trial",
    displayName: "Free trial",
    cpus: 0.5,
    memoryMb: 1536,
    storageGb: 2,
    database: { placement: "shared", connectionLimit: 12 },
    odoo: {
      workers: 1,
      maxCronThreads: 1,
      limitMemorySoftMb: 512,
      limitMemoryHardMb: 896,
      limitTimeCpuSeconds: 600,
      limitTimeRealSeconds: 1200,
      dbMaxConnections: 4,
    },
    trialDays: 14,
    trialOnly: true,
    sleep: { afterIdleMinutes: 30, wakeForCronsEveryHours: 12 },
    usage: {
      users: { included: 5, cap: 5 },
      storageGb: { included: 2, cap: 2 },
      overLimit: "block",
    },
    monthlyPrice: { USD: 0, EUR: 0 },
    killbill: { product: "OdooTrial", plans: ["odoo-trial"] },
  },
  {
    id: "basic",
    displayName: "Basic",
    cpus: 1,
    memoryMb: 2048,
    storageGb: 10,
    database: { placement: "shared", connectionLimit: 16 },
    odoo: {
      workers: 2,
      maxCronThreads: 1,
      limitMemorySoftMb: 512,
      limitMemoryHardMb: 1024,
      limitTimeCpuSeconds: 600,
      limitTimeRealSeconds: 1200,
      dbMaxConnections: 4,
    },
    trialDays: 14,
    usage: {
      users: {
        included: 3,
        tiers: [
          { upTo: 10, monthlyPrice: { USD: 30, EUR: 28 } },
          { upTo: 25, monthlyPrice: { USD: 75, EUR: 70 } },
          { upTo: null, monthlyPrice: { USD: 150, EUR: 140 } },
        ],
        cap: 25,
      },
      storageGb: {
        included: 2,
        tiers: [
          { upTo: 5, monthlyPrice: { USD: 5, EUR: 5 } },
          { upTo: null, monthlyPrice: { USD: 15, EUR: 14 } },
        ],
        cap: 10,
      },
      overLimit: "bill",
    },
    monthlyPrice: { USD: 29, EUR: 27 },
    killbill: { product: "OdooBasic", plans: ["odoo-basic-monthly"] },
  },
  {
    id: "standard",
    displayName: "Standard",
    cpus: 2,
    memoryMb: 4096,
    storageGb: 50,
    database: { placement: "shared", connectionLimit: 42 },
    odoo: {
      workers: 4,
      maxCronThreads: 2,
      limitMemorySoftMb: 576,
      limitMemoryHardMb: 1536,
      limitTimeCpuSeconds: 900,
      limitTimeRealSeconds: 1800,
      dbMaxConnections: 6,
    },
    trialDays: 14,
    usage: {
      users: {
        included: 10,
        tiers: [
          { upTo: 25, monthlyPrice: { USD: 60, EUR: 56 } },
          { upTo: 50, monthlyPrice: { USD: 150, EUR: 140 } },
          { upTo: null, monthlyPrice: { USD: 300, EUR: 280 } },
        ],
      },
      storageGb: {
        included: 20,
        tiers: [
          { upTo: 50, monthlyPrice: { USD: 20, EUR: 19 } },
          { upTo: null, monthlyPrice: { USD: 60, EUR: 56 } },
        ],
      },
      overLimit: "bill",
    },
    monthlyPrice: { USD: 79, EUR: 73 },
    killbill: { product: "OdooStandard", plans: ["odoo-standard-monthly"] },
  },
  {
    id: "premium",
    displayName: "Premium",
    cpus: 4,
    memoryMb: 8192,
    storageGb: 200,
    database: { placement: "dedicated", connectionLimit: 128 },
    odoo: {
      workers: 8,
      maxCronThreads: 2,
      limitMemorySoftMb: 736,
      limitMemoryHardMb: 2048,
      limitTimeCpuSeconds: 1800,
      limitTimeRealSeconds: 3600,
      dbMaxConnections: 10,
    },
    trialDays: 0,
    monthlyPrice: { USD: 199, EUR: 185 },
    killbill: { product: "OdooPremium", plans: ["odoo-premium-monthly"] },
  },
  {
    id: "enterprise",
    displayName: "Enterprise",
    cpus: 8,
    memoryMb: 16384,
    storageGb: 1000,
    database: { placement: "dedicated", connectionLimit: 256 },
    odoo: {
      workers: 16,
      maxCronThreads: 4,
      limitMemorySoftMb: 768,
      limitMemoryHardMb: 3072,
      limitTimeCpuSeconds: 3600,
      limitTimeRealSeconds: 7200,
      dbMaxConnections: 10,
    },
    trialDays: 0,
    monthlyPrice: { USD: 499, EUR: 465 },
    killbill: { product: "OdooEnterprise", plans: ["odoo-enterprise-monthly"] },
  },
];
