import { z } from "zod";
import { planSchema, type Plan } from "./plan-schema";
import { planData } from "./plans";

export class CatalogError extends Error {
  override readonly name = "CatalogError";
}

/** Every problem in a zod error as `path: message`, one per line. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("\n");
}

/** A validated, indexed set of plans. */
export class Catalog {
  readonly plans: readonly Plan[];
  private readonly byId: ReadonlyMap<string, Plan>;
  private readonly byKillBillPlan: ReadonlyMap<string, Plan>;

  constructor(plans: Plan[]) {
    this.plans = plans;
    this.byId = new Map(plans.map((p) => [p.id, p]));
    this.byKillBillPlan = new Map(plans.flatMap((p) => p.killbill.plans.map((kb) => [kb, p])));
  }

  plan(id: string): Plan | undefined {
    return this.byId.get(id);
  }

  /** The tier a Kill Bill plan name (a subscription's `planName`) maps to. */
  planForKillBill(killBillPlanName: string): Plan | undefined {
    return this.byKillBillPlan.get(killBillPlanName);
  }

  get planIds(): string[] {
    return this.plans.map((p) => p.id);
  }

  /** Currencies every plan is priced in (validated to be the same set for all). */
  get currencies(): string[] {
    return Object.keys(this.plans[0].monthlyPrice).sort();
  }
}

const catalogSchema = z
  .array(planSchema)
  .min(1)
  .superRefine((plans, ctx) => {
    const seen = new Map<string, string>();
    const claim = (kind: string, key: string, index: number, path: (string | number)[]) => {
      const k = `${kind}:${key}`;
      if (seen.has(k))
        ctx.addIssue({
          code: "custom",
          path: [index, ...path],
          message: `duplicate ${kind} "${key}" (also ${seen.get(k)})`,
        });
      else seen.set(k, plans[index].id);
    };
    const currencies = Object.keys(plans[0].monthlyPrice).sort().join(",");
    plans.forEach((p, i) => {
      claim("plan id", p.id, i, ["id"]);
      claim("Kill Bill product", p.killbill.product, i, ["killbill", "product"]);
      p.killbill.plans.forEach((kb, j) => claim("Kill Bill plan", kb, i, ["killbill", "plans", j]));
      if (Object.keys(p.monthlyPrice).sort().join(",") !== currencies)
        ctx.addIssue({
          code: "custom",
          path: [i, "monthlyPrice"],
          message: `currencies must be ${currencies} like every plan`,
        });
    });
  });

/** Validates plan data, failing loudly with every problem and the field it is in. */
export function loadCatalog(data: unknown = planData): Catalog {
  const parsed = catalogSchema.safeParse(data);
  if (!parsed.success)
    throw new CatalogError(`invalid plan catalog:\n${formatIssues(parsed.error)}`);
  return new Catalog(parsed.data);
}
