import { loadCatalog } from "../../catalog";
import {
  defaultMaxConnections,
  sharedConnectionLimit,
  sharedConnectionReservation,
  sharedPostgresAdmits,
  transactionPoolSize,
  transactionPoolSizes,
} from "./shared-postgres-capacity";

const catalog = loadCatalog();

describe("the shared PostgreSQL server's capacity", () => {
  it("defaults to room for N tenants at the largest shared limit, plus the reserve", () => {
    // standard's 42 is the largest limit on the shared server; premium and enterprise have their own.
    expect(defaultMaxConnections(catalog, 10)).toBe(20 + 10 * 42);
  });

  it.each([
    ["an empty server", 100, [], { tenantId: "a", plan: "standard" }, true],
    ["exactly full", 62, [], { tenantId: "a", plan: "standard" }, true],
    ["one over", 61, [], { tenantId: "a", plan: "standard" }, false],
    [
      "a dedicated plan takes nothing",
      20,
      [{ id: "b", plan: "basic" }],
      { tenantId: "a", plan: "premium" },
      true,
    ],
    [
      "a plan change counts the tenant once",
      62,
      [{ id: "a", plan: "basic" }],
      { tenantId: "a", plan: "standard" },
      true,
    ],
    ["others count", 77, [{ id: "b", plan: "basic" }], { tenantId: "a", plan: "standard" }, false],
  ])("%s", (_name, max, held, change, ok) => {
    expect(sharedPostgresAdmits(catalog, max, held, change).ok).toBe(ok);
  });

  describe("through the pooler", () => {
    const pooler = { minTransactionPoolSize: 2 };

    // A transaction pool one larger than the plan's cron workers (each holds two transactions at
    // once), at least the platform's minimum; one pooler per size.
    it.each([
      ["trial", 2, { minTransactionPoolSize: 2 }],
      ["standard", 3, { minTransactionPoolSize: 2 }],
      ["trial", 4, { minTransactionPoolSize: 4 }],
    ])("%s gets a pool of %i with %o", (plan, size, sizing) => {
      expect(transactionPoolSize(catalog.plan(plan)!, sizing)).toBe(size);
    });
    it("runs a pooler per pool size of the shared plans", () => {
      expect(transactionPoolSizes(catalog, pooler)).toEqual([2, 3]);
    });

    // One session per Odoo process on `postgres`, plus the database's transaction pool.
    it.each([
      ["trial", 1 + 1 + 1 + 2],
      ["basic", 2 + 1 + 1 + 2],
      ["standard", 4 + 2 + 1 + 3],
    ])("%s reserves %i and may open one more (a backup)", (plan, reserved) => {
      expect(sharedConnectionReservation(catalog.plan(plan)!, pooler)).toBe(reserved);
      expect(sharedConnectionLimit(catalog.plan(plan)!, pooler)).toBe(reserved + 1);
    });

    it("fits 56 trials in 300 connections, 23 directly", () => {
      const trials = Array.from({ length: 56 }, (_, i) => ({ id: `t${i}`, plan: "trial" }));
      const next = { tenantId: "next", plan: "trial" };
      expect(sharedPostgresAdmits(catalog, 300, trials.slice(0, 55), next, pooler).ok).toBe(true);
      expect(sharedPostgresAdmits(catalog, 300, trials, next, pooler)).toEqual({
        ok: false,
        reason: expect.stringContaining("needs 5 through the pooler"),
      });
      expect(sharedPostgresAdmits(catalog, 300, trials.slice(0, 22), next).ok).toBe(true);
      expect(sharedPostgresAdmits(catalog, 300, trials.slice(0, 23), next).ok).toBe(false);
    });

    it("sizes the default server by the largest pooled reservation", () => {
      expect(defaultMaxConnections(catalog, 10, pooler)).toBe(20 + 10 * 10);
    });
  });
});
