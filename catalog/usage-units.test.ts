import { loadCatalog, usageAmounts, usageCharge } from "./index";

const basic = loadCatalog().plan("basic")!.usage!;

describe("usage in the catalog's units", () => {
  it.each([
    // users, database bytes, filestore bytes -> users, GB (any part of a GB counts as one)
    [2, 8_000_000, 0, 2, 1],
    [12, 8_000_000, 992_000_000, 12, 1],
    [12, 8_000_000, 992_000_001, 12, 2],
    [0, 0, 0, 0, 0],
  ])("%i users, %i + %i bytes -> %i users, %i GB", (users, db, files, u, gb) => {
    expect(usageAmounts({ users, databaseBytes: db, filestoreBytes: files })).toEqual({
      users: u,
      storageGb: gb,
    });
  });
});

describe("what a period's peak costs (Kill Bill's CAPACITY tiers)", () => {
  it.each([
    ["users", 3, 0], // included
    ["users", 4, 30],
    ["users", 10, 30],
    ["users", 12, 75],
    ["users", 26, 150], // the unbounded last tier
    ["storageGb", 2, 0],
    ["storageGb", 3, 5],
    ["storageGb", 400, 15],
  ] as const)("basic, %s at %i: USD %i", (unit, peak, usd) => {
    expect(usageCharge(basic[unit], peak, "USD")).toBe(usd);
  });

  it("charges nothing for a unit without tiers (the trial's)", () => {
    expect(usageCharge(loadCatalog().plan("trial")!.usage!.users, 50, "USD")).toBe(0);
  });
});
