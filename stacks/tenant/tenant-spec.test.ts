import { InvalidTenantSpecError, parseTenantSpec } from "./tenant-spec";

const valid = {
  tenantId: "acme",
  customerId: "acme-corp",
  plan: "standard",
  odooVersion: "17",
  adminEmail: "owner@acme.example",
};

describe("parseTenantSpec", () => {
  it("fills defaults: subdomain = tenant id, active, no custom domains", () => {
    expect(parseTenantSpec(valid)).toEqual({
      ...valid,
      subdomain: "acme",
      state: "active",
      customDomains: [],
      keptNodes: [],
    });
  });

  it.each([
    ["reserved id", { tenantId: "admin" }, "tenantId: is reserved by the platform"],
    ["bad id", { tenantId: "Acme_1" }, "tenantId: lower-case letters, digits and inner dashes"],
    ["short id", { tenantId: "ab" }, "tenantId"],
    ["unknown plan", { plan: "gold" }, 'plan: unknown plan "gold"'],
    ["unknown version", { odooVersion: "12" }, "odooVersion"],
    ["bad e-mail", { adminEmail: "nope" }, "adminEmail"],
    ["bad state", { state: "deleted" }, "state"],
    ["a node kept without one serving", { keptNodes: ["w1"] }, "keptNodes: only with node"],
    ["bad custom domain", { customDomains: ["not a host"] }, "customDomains.0"],
    ["unknown field", { cpu: 4 }, "Unrecognized key"],
  ])("rejects %s", (_name, patch, message) => {
    const attempt = () => parseTenantSpec({ ...valid, ...patch });
    expect(attempt).toThrow(InvalidTenantSpecError);
    expect(attempt).toThrow(message);
  });

  it("lists every problem at once", () => {
    try {
      parseTenantSpec({ ...valid, tenantId: "admin", adminEmail: "x" });
      throw new Error("accepted");
    } catch (e) {
      expect((e as InvalidTenantSpecError).problems).toHaveLength(2);
    }
  });
});
