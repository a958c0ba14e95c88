import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { USAGE_UNIT_NAMES, type UsageUnit } from "../../catalog";
import { BILLING_STATUSES } from "../domain/tenant";
import { INSTANCE_STATUSES } from "../services/instance-status";

extendZodWithOpenApi(z);

/** Schemas of the HTTP API: validation and the OpenAPI document come from the same objects. */
/** Path ids are checked before they reach SQL: anything else (NUL, look-alikes, …) is a 422. */
export const tenantIdParam = z.object({
  id: z
    .string()
    .max(63)
    .regex(
      /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
      "a tenant id: lower-case letters, digits, inner dashes",
    )
    .openapi({ param: { name: "id", in: "path" }, example: "acme" }),
});
export const operationIdParam = z.object({
  id: z.uuid("an operation id (a UUID)").openapi({ param: { name: "id", in: "path" } }),
});

export const createTenantBody = z
  .object({
    tenantId: z.string().openapi({ example: "acme" }),
    customerId: z.string().openapi({ example: "acme-corp" }),
    plan: z.string().openapi({ example: "trial" }),
    odooVersion: z.string().openapi({ example: "17" }),
    adminEmail: z.string().optional().openapi({ example: "owner@acme.example" }),
    subdomain: z.string().optional(),
    state: z.enum(["active", "suspended"]).optional(),
    customDomains: z.array(z.string()).optional(),
  })
  .openapi("CreateTenant");

export const deleteQuery = z.object({
  /** Deletes without the final backup: the data is gone for good. */
  skipBackup: z.enum(["true", "false"]).optional(),
});

const nodeHostname = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, "a node's hostname");

export const moveBody = z
  .strictObject({
    /** The Swarm node to move to: one of the platform's tenant nodes (swarmTenantNodes). */
    node: nodeHostname,
    /**
     * Its node is lost (down, or gone from the Swarm): restore it there from its last verified
     * backup instead of copying its files; what they gained since that backup is lost.
     */
    fromBackup: z.boolean().optional(),
  })
  .openapi("Move");

export const nodeParam = z.object({ node: nodeHostname });

export const restoreBody = z
  .strictObject({
    /** The backup to restore (the newest verified one by default). */
    backupId: z.uuid("a backup id (a UUID)").optional(),
    /** Another tenant id: restores a copy there (created like the source when it does not exist). */
    targetTenantId: tenantIdParam.shape.id.optional(),
  })
  .openapi("Restore");

export const exportQuery = z.object({
  backup: z.uuid("a backup id (a UUID)").optional(),
});

export const planChangeBody = z.strictObject({ plan: z.string().min(1) }).openapi("PlanChange");

export const domainBody = z
  .strictObject({ domain: z.string().min(1).max(300).openapi({ example: "erp.acme.org" }) })
  .openapi("DomainClaim");

const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "a day as YYYY-MM-DD")
  .refine(
    (d) => new Date(Date.parse(`${d}T00:00:00Z`) || 0).toISOString().slice(0, 10) === d,
    "not a calendar day",
  );

export const usageQuery = z.object({ from: isoDay.optional(), to: isoDay.optional() });
export const usageDayParam = z.object({
  day: isoDay.openapi({ param: { name: "day", in: "path" }, example: "2026-12-01" }),
});
export const usageCorrectionBody = z.strictObject({
  unit: z.enum(USAGE_UNIT_NAMES as [UsageUnit, ...UsageUnit[]]),
  amount: z.number().int().min(0),
  /** Who corrects and why: kept with the day. */
  reason: z.string().min(3).max(300),
});

export const domainParam = z.object({
  id: z.string(),
  domain: z
    .string()
    .min(1)
    .max(300)
    .openapi({ param: { name: "domain", in: "path" }, example: "erp.acme.org" }),
});

export const tenantView = z
  .object({
    id: z.string(),
    customerId: z.string(),
    plan: z.string(),
    odooVersion: z.string(),
    adminEmail: z.string().nullable(),
    desiredState: z.enum(["active", "suspended", "terminated", "deleted"]),
    operatorHold: z.boolean(),
    suspendReason: z.enum(["overdue", "paused", "operator", "payment_failed"]).nullable(),
    billing: z
      .object({
        subscriptionId: z.string(),
        accountId: z.string().nullable(),
        state: z.enum(["active", "suspended", "terminated", "deleted"]).nullable(),
        status: z.enum(BILLING_STATUSES).nullable(),
        endsOn: z.string().nullable(),
      })
      .nullable(),
    observedState: z.enum(["active", "suspended", "terminated", "deleted"]).nullable(),
    status: z.enum(INSTANCE_STATUSES),
    dataKeptUntil: z.string().nullable(),
    sleepingSince: z
      .string()
      .nullable()
      .describe("asleep since then: idle, stopped until its next request wakes it (docs/sleep.md)"),
    lastActivityAt: z.string().nullable().describe("when its gateway last reported it in use"),
    overLimit: z
      .array(z.object({ unit: z.string(), amount: z.number(), cap: z.number(), since: z.string() }))
      .describe("caps of its plan it is at or past (docs/usage.md)"),
    converged: z
      .boolean()
      .describe(
        "the desired state is applied and, when it runs, the tenant answers through the edge",
      ),
    pending: z
      .object({ changes: z.array(z.string()), error: z.string().nullable() })
      .nullable()
      .describe("while not converged: what is still to be carried out, and why not yet"),
    database: z.object({
      placement: z.enum(["shared", "dedicated"]).nullable(),
      move: z
        .object({ from: z.string(), to: z.string(), phase: z.string(), startedAt: z.string() })
        .nullable(),
      kept: z.array(z.object({ placement: z.string(), keptUntil: z.string() })),
    }),
    node: z
      .string()
      .nullable()
      .describe(
        "Swarm on several nodes: the node holding its local volumes (null: the platform's)",
      ),
    nodeProblem: z
      .string()
      .nullable()
      .describe("why its node does not run it as it should (down, drained, paused, gone)"),
    nodeMove: z
      .object({ from: z.string(), to: z.string(), phase: z.string() })
      .nullable()
      .describe("a move between nodes under way"),
    desiredGeneration: z.number(),
    observedGeneration: z.number(),
    url: z.string().nullable(),
    inputsFingerprint: z
      .string()
      .nullable()
      .describe("digest of the inputs the stack was last applied with"),
    drift: z
      .object({
        checkedAt: z.string(),
        resources: z.array(
          z.object({
            type: z.string(),
            name: z.string(),
            op: z.string(),
            changedProperties: z.array(z.string()),
          }),
        ),
      })
      .nullable()
      .describe("the latest drift check: resources changed (update) or deleted out of band"),
    lastError: z.string().nullable(),
    source: z.enum(["killbill", "admin"]),
    lastOperation: z
      .object({
        id: z.string(),
        type: z.string(),
        status: z.string(),
        startedAt: z.string(),
        finishedAt: z.string().nullable(),
      })
      .nullable(),
  })
  .openapi("Tenant");

export const tenantPage = z
  .object({
    tenants: z.array(tenantView),
    /** Pass as `cursor` for the next page; null on the last one. */
    nextCursor: z.string().nullable(),
  })
  .openapi("TenantPage");

const TENANT_ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** GET /admin/tenants: a page size, the cursor of the previous page, filters; nothing else. */
export const listTenantsQuery = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z
      .string()
      .max(100)
      .refine((c) => {
        const id = Buffer.from(c, "base64url").toString();
        return id.length <= 63 && TENANT_ID.test(id);
      }, "not a cursor this API gave out")
      .optional(),
    state: z.enum(["active", "suspended", "terminated", "deleted"]).optional(),
    plan: z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/, "a plan name")
      .optional(),
    lagging: z.enum(["true", "false"]).optional(),
    failed: z.enum(["true", "false"]).optional(),
    drifted: z.enum(["true", "false"]).optional(),
  })
  .openapi("ListTenantsQuery");

export const billingTransitionView = z
  .object({
    from: z.enum(BILLING_STATUSES).nullable(),
    to: z.enum(BILLING_STATUSES),
    cause: z.string(),
    at: z.string(),
  })
  .openapi("BillingTransition");

export const tenantCertificatesView = z
  .object({
    tenantId: z.string(),
    certificates: z.array(
      z.object({
        host: z.string(),
        state: z
          .enum(["issued", "pending", "failed", "unknown"])
          .describe(
            "issued: served for the host; failed: not, and the CA refused the last order; pending: not yet; unknown: the edge could not be asked",
          ),
        issuer: z.string().optional(),
        notAfter: z.string().optional(),
        lastFailure: z
          .object({ at: z.string(), reason: z.string() })
          .optional()
          .describe("the CA's last refusal, from Traefik's log"),
      }),
    ),
    logUnreadable: z.string().optional(),
  })
  .openapi("TenantCertificates");

export const billingProblemView = z
  .discriminatedUnion("kind", [
    z.object({
      kind: z.literal("problem").describe("a subscription billing a customer without an instance"),
      subscriptionId: z.string(),
      accountId: z.string().nullable(),
      tenantId: z.string().nullable(),
      problem: z.string(),
      firstSeen: z.string(),
      lastSeen: z.string(),
    }),
    z.object({
      kind: z.literal("quarantined").describe("billing work that failed, retried on its own"),
      unit: z.enum(["event", "subscription", "account"]),
      subscriptionId: z.string().nullable(),
      accountId: z.string().nullable(),
      tenantId: z.string().nullable(),
      eventId: z.string().nullable(),
      problem: z.string(),
      cause: z.string().nullable(),
      attempts: z.number(),
      nextAttemptAt: z.string(),
      firstSeen: z.string(),
      lastSeen: z.string(),
    }),
  ])
  .openapi("BillingProblem");

export const resyncReport = z
  .object({
    accounts: z.number(),
    subscriptions: z.number(),
    changed: z.number(),
    failed: z
      .array(
        z.object({
          kind: z.enum(["event", "subscription", "account"]),
          id: z.string(),
          reason: z.string(),
        }),
      )
      .describe("what could not be read or applied: quarantined and retried on its own"),
  })
  .openapi("ResyncReport");

export const operationView = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    type: z.enum(["up", "destroy"]),
    generation: z.number(),
    status: z.enum(["running", "succeeded", "failed", "abandoned"]),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    error: z.string().nullable(),
    logTail: z.string().nullable(),
    changes: z.record(z.string(), z.number()).nullable(),
  })
  .openapi("Operation");

export const previewView = z
  .object({
    changes: z.array(
      z.object({
        urn: z.string(),
        type: z.string(),
        name: z.string(),
        op: z.string(),
        changedProperties: z.array(z.string()),
      }),
    ),
    counts: z.record(z.string(), z.number()),
    text: z.string(),
  })
  .openapi("Preview");

export const errorView = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      requestId: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

export const webhookBody = z
  .object({
    eventType: z.string().openapi({ example: "SUBSCRIPTION_CREATION" }),
    objectType: z.string().nullable(),
    objectId: z.string().nullable(),
    accountId: z.string().nullable(),
    metaData: z.string().nullable().openapi({ description: "a JSON object encoded as a string" }),
  })
  .openapi("KillBillNotification");
