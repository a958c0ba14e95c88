import { z } from "zod";

/** Lower-case identifier usable in resource names, PostgreSQL identifiers and Kill Bill names. */
const slug = z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, "lower-case letters, digits and dashes");

/** ISO 4217 currency code -> monthly amount in that currency. */
const prices = z
  .record(z.string().regex(/^[A-Z]{3}$/, "ISO 4217 currency code"), z.number().nonnegative())
  .refine((p) => Object.keys(p).length > 0, "at least one currency");

/** Odoo server options sized per plan (odoo.conf keys of the same names). */
const odooLimits = z.strictObject({
  /** HTTP worker processes; 0 would be threaded mode, which ignores memory limits, so >= 1. */
  workers: z.number().int().min(1).max(64),
  maxCronThreads: z.number().int().min(0).max(8),
  limitMemorySoftMb: z.number().int().min(256),
  limitMemoryHardMb: z.number().int().min(256),
  limitTimeCpuSeconds: z.number().int().min(30),
  limitTimeRealSeconds: z.number().int().min(30),
  /**
   * Connection pool size of each Odoo process (db_maxconn), for all its databases; Odoo keeps
   * what it opened. What a process needs at once (bench/density): an HTTP worker 2 (its request's
   * database, and `postgres` for the database list and bus notifications), a cron worker 3 (its
   * LISTEN, the cursor acquiring jobs and the job's own), the gevent worker its LISTEN plus one
   * per notification dispatched at the same instant. A process needing more fails (PoolError).
   */
  dbMaxConnections: z.number().int().min(3).max(256),
});

/** A price bracket beyond what a plan includes: up to `upTo` units (none: no upper bound). */
const usageTier = z.strictObject({
  upTo: z.number().int().positive().nullable(),
  monthlyPrice: prices,
});

/** What a plan includes of one usage unit, what more costs, and the most it allows. */
const unitAllowance = z.strictObject({
  included: z.number().int().min(0),
  /** Ascending brackets beyond `included`, billed monthly in arrears on the period's peak. */
  tiers: z.array(usageTier).default([]),
  /** Past it the customer is mailed and the operator sees it; `overLimit` decides the rest. */
  cap: z.number().int().positive().optional(),
});

export const planSchema = z
  .strictObject({
    id: slug,
    displayName: z.string().min(1),
    /** CPU limit of the Odoo runtime, in cores (fractions allowed). */
    cpus: z.number().positive().max(64),
    memoryMb: z.number().int().min(512),
    /** Filestore quota. */
    storageGb: z.number().int().min(1),
    database: z.strictObject({
      /** shared: a database on the platform's PostgreSQL; dedicated: a PostgreSQL of its own. */
      placement: z.enum(["shared", "dedicated"]),
      connectionLimit: z.number().int().min(4),
    }),
    odoo: odooLimits,
    /** Free days before the first charge (a TRIAL phase in Kill Bill); 0 for none. */
    trialDays: z.number().int().min(0).max(365),
    /** A plan that ends when its trial ends (the subscription expires) instead of billing on. */
    trialOnly: z.boolean().default(false),
    /**
     * After a cancellation: days the stopped instance and its data are kept (reactivation brings
     * it back); the API's DATA_RETENTION_DAYS (30) when absent.
     */
    dataRetentionDays: z.number().int().min(1).max(3650).optional(),
    /**
     * Idle instances sleep: stopped after this long without a real user request (and no open
     * websocket), started again by the next request; woken on a schedule so scheduled actions
     * (crons, mail fetching) still run. Absent: never sleeps (paid plans).
     */
    sleep: z
      .strictObject({
        afterIdleMinutes: z.number().int().min(5).max(10080),
        /** A sleeping instance is woken this often, for `afterIdleMinutes`, to run its crons. */
        wakeForCronsEveryHours: z.number().int().min(1).max(168),
      })
      .optional(),
    /**
     * Metered usage (catalog/usage-units.ts). Past a cap: `bill` the overage (the tiers), or
     * `block` (the instance stays readable; no new internal users, no new attachments).
     * Absent: measured, never billed or limited.
     */
    usage: z
      .strictObject({
        users: unitAllowance,
        storageGb: unitAllowance,
        overLimit: z.enum(["bill", "block"]).default("bill"),
      })
      .optional(),
    /** How many backups restic keeps (`forget --keep-daily/weekly/monthly`). */
    backupRetention: z
      .strictObject({
        daily: z.number().int().min(1).max(366),
        weekly: z.number().int().min(0).max(520),
        monthly: z.number().int().min(0).max(1200),
      })
      .default({ daily: 7, weekly: 4, monthly: 3 }),
    monthlyPrice: prices,
    killbill: z.strictObject({
      product: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/),
      /** Kill Bill plan names this tier answers to; the first one is the one the catalog defines. */
      plans: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).min(1),
    }),
  })
  .superRefine((p, ctx) => {
    const o = p.odoo;
    if (o.limitMemorySoftMb > o.limitMemoryHardMb)
      ctx.addIssue({
        code: "custom",
        path: ["odoo", "limitMemorySoftMb"],
        message: "exceeds limitMemoryHardMb",
      });
    if (o.limitTimeCpuSeconds > o.limitTimeRealSeconds)
      ctx.addIssue({
        code: "custom",
        path: ["odoo", "limitTimeCpuSeconds"],
        message: "exceeds limitTimeRealSeconds",
      });
    // Every Odoo process (HTTP workers + cron threads + the gevent worker) holds up to
    // db_maxconn connections; the database must admit them all.
    const processes = o.workers + o.maxCronThreads + 1;
    if (processes * o.dbMaxConnections > p.database.connectionLimit)
      ctx.addIssue({
        code: "custom",
        path: ["database", "connectionLimit"],
        message: `below ${processes} Odoo processes x dbMaxConnections ${o.dbMaxConnections}`,
      });
    // Odoo's memory limits are per process, the container's covers them all: every process at
    // its soft limit (what it may keep between requests) must fit, or the kernel OOM-kills the
    // container before Odoo recycles a worker.
    if (processes * o.limitMemorySoftMb > p.memoryMb)
      ctx.addIssue({
        code: "custom",
        path: ["odoo", "limitMemorySoftMb"],
        message: `${processes} Odoo processes x ${o.limitMemorySoftMb} MB exceed memoryMb ${p.memoryMb}`,
      });
    // One worker alone must never be able to exceed the container's memory limit.
    if (o.limitMemoryHardMb > p.memoryMb)
      ctx.addIssue({
        code: "custom",
        path: ["odoo", "limitMemoryHardMb"],
        message: "exceeds memoryMb",
      });
    if (p.usage) {
      const currencies = Object.keys(p.monthlyPrice).sort().join(",");
      for (const unit of ["users", "storageGb"] as const) {
        const u = p.usage[unit];
        const at = (...path: (string | number)[]) => ["usage", unit, ...path];
        let floor = u.included;
        u.tiers.forEach((t, i) => {
          const last = i === u.tiers.length - 1;
          // Kill Bill cannot invoice a peak beyond its last tier: that one has no upper bound.
          if (last !== (t.upTo === null))
            ctx.addIssue({
              code: "custom",
              path: at("tiers", i, "upTo"),
              message: last
                ? "the last tier has no upper bound (null)"
                : "only the last tier is unbounded",
            });
          if (t.upTo !== null && t.upTo <= floor)
            ctx.addIssue({
              code: "custom",
              path: at("tiers", i, "upTo"),
              message: `must exceed ${floor} (tiers ascend from what is included)`,
            });
          floor = t.upTo ?? floor;
          if (Object.keys(t.monthlyPrice).sort().join(",") !== currencies)
            ctx.addIssue({
              code: "custom",
              path: at("tiers", i, "monthlyPrice"),
              message: `currencies must be ${currencies} like the plan's price`,
            });
        });
        if (u.cap !== undefined && u.cap < u.included)
          ctx.addIssue({ code: "custom", path: at("cap"), message: "below what is included" });
        if (p.usage.overLimit === "bill" && u.tiers.length === 0 && u.cap !== undefined)
          ctx.addIssue({
            code: "custom",
            path: at("tiers"),
            message: "overage billed past a cap needs tiers that price it",
          });
      }
      if (p.trialOnly && (p.usage.users.tiers.length || p.usage.storageGb.tiers.length))
        ctx.addIssue({ code: "custom", path: ["usage"], message: "a trial bills no usage" });
      if (p.trialOnly && p.usage.overLimit !== "block")
        ctx.addIssue({
          code: "custom",
          path: ["usage", "overLimit"],
          message: "a trial bills nothing: its limits block",
        });
    }
    if (p.trialOnly && p.trialDays === 0)
      ctx.addIssue({
        code: "custom",
        path: ["trialDays"],
        message: "a trial-only plan needs trial days",
      });
  });

export type Plan = z.infer<typeof planSchema>;
