import { loadCatalog } from "../../catalog";
import {
  defaultMaxConnections,
  minimumTransactionPool,
  sharedConnectionLimit,
  sharedConnectionReservation,
  sharedPostgresAdmits,
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
    const pooler = { transactionPoolSize: 3 };
    // One session per Odoo process on `postgres`, plus the database's transaction pool.
    it.each([
      ["trial", 1 + 1 + 1 + 3],
      ["basic", 2 + 1 + 1 + 3],
      ["standard", 4 + 2 + 1 + 3],
    ])("%s reserves %i and may open one more (a backup)", (plan, reserved) => {
      expect(sharedConnectionReservation(catalog.plan(plan)!, pooler)).toBe(reserved);
      expect(sharedConnectionLimit(catalog.plan(plan)!, pooler)).toBe(reserved + 1);
    });

    it("the pool is one larger than the most cron workers of a shared plan (standard's 2)", () => {
      expect(minimumTransactionPool(catalog)).toBe(3);
    });

    it("fits 46 trials in 300 connections, twice as many as directly", () => {
      const trials = Array.from({ length: 46 }, (_, i) => ({ id: `t${i}`, plan: "trial" }));
      const next = { tenantId: "next", plan: "trial" };
      expect(sharedPostgresAdmits(catalog, 300, trials.slice(0, 45), next, pooler).ok).toBe(true);
      const full = sharedPostgresAdmits(catalog, 300, trials, next, pooler);
      expect(full).toEqual({
        ok: false,
        reason: expect.stringContaining("needs 6 through the pooler"),
      });
      expect(sharedPostgresAdmits(catalog, 300, trials.slice(0, 23), next).ok).toBe(false);
    });

    it("sizes the default server by the largest pooled reservation", () => {
      expect(defaultMaxConnections(catalog, 10, pooler)).toBe(20 + 10 * 10);
    });
  });
});
