import { loadCatalog } from "../../catalog";
import { defaultMaxConnections, sharedPostgresAdmits } from "./shared-postgres-capacity";

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
});
