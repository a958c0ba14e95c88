import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadCatalog } from "../catalog";
import { parseTenantSpec } from "../stacks/tenant/tenant-spec";
import {
  inputsFingerprint,
  platformFingerprint,
  platformFingerprintDocument,
  programVersion,
} from "./inputs-fingerprint";

const catalog = loadCatalog();
const spec = parseTenantSpec({
  tenantId: "acme",
  customerId: "cust-1",
  plan: "basic",
  odooVersion: "17",
  adminEmail: "owner@acme.example",
});
const basic = catalog.plan("basic")!;
const platform = {
  tenantSettings: { runtime: "docker", domain: "saas.test" },
  postgresAdminPassword: "pw-1",
};
const base = {
  spec,
  plan: basic,
  platform: platformFingerprint({ outputs: platform }),
  program: "program-v1",
};
const fp = inputsFingerprint(base);

describe("inputs fingerprint: changes exactly when an input the program reads changes", () => {
  test.each([
    ["the spec's plan", { spec: { ...spec, plan: "standard" } }],
    ["the spec's state", { spec: { ...spec, state: "suspended" as const } }],
    ["the spec's custom domains", { spec: { ...spec, customDomains: ["erp.acme.example"] } }],
    ["the spec's Odoo version", { spec: { ...spec, odooVersion: "18" as const } }],
    ["the plan's memory", { plan: { ...basic, memoryMb: basic.memoryMb + 512 } }],
    ["the plan's CPUs", { plan: { ...basic, cpus: basic.cpus + 1 } }],
    ["the plan's storage", { plan: { ...basic, storageGb: basic.storageGb + 1 } }],
    ["the plan's Odoo workers", { plan: { ...basic, odoo: { ...basic.odoo, workers: 9 } } }],
    [
      "the platform's tenant settings",
      {
        platform: platformFingerprint({
          outputs: { ...platform, tenantSettings: { runtime: "swarm" } },
        }),
      },
    ],
    [
      "the platform's PostgreSQL password",
      {
        platform: platformFingerprint({ outputs: { ...platform, postgresAdminPassword: "pw-2" } }),
      },
    ],
    [
      "the control plane's PostgreSQL address",
      {
        platform: platformFingerprint({
          outputs: platform,
          postgresAdmin: { host: "pg", port: 5432 },
        }),
      },
    ],
    ["the program's code", { program: "program-v2" }],
  ])("%s changes it", (_what, change) => {
    expect(inputsFingerprint({ ...base, ...change })).not.toBe(fp);
  });

  test.each([
    ["the plan's prices", { plan: { ...basic, monthlyPrice: { USD: 1, EUR: 1 } } }],
    ["the plan's trial days", { plan: { ...basic, trialDays: 3 } }],
    ["the plan's display name", { plan: { ...basic, displayName: "Starter" } }],
    [
      "the plan's Kill Bill names",
      { plan: { ...basic, killbill: { product: "X", plans: ["x"] } } },
    ],
    [
      "the plan's backup retention",
      { plan: { ...basic, backupRetention: { daily: 1, weekly: 0, monthly: 0 } } },
    ],
    [
      "the order of keys",
      { spec: Object.fromEntries(Object.entries(spec).reverse()) as typeof spec },
    ],
  ])("%s (billing only, or no change at all) leaves it", (_what, change) => {
    expect(inputsFingerprint({ ...base, ...change })).toBe(fp);
  });

  test("a secret is never in what it is computed from, in clear or as its plain digest", () => {
    const document = JSON.stringify(platformFingerprintDocument({ outputs: platform }));
    const plainDigest = createHash("sha256").update("pw-1").digest("hex");
    expect(document).not.toContain("pw-1");
    expect(document).not.toContain(plainDigest);
    // Yet it is there (as a digest of its digest): a new password is a new fingerprint.
    const rotated = platformFingerprint({
      outputs: { ...platform, postgresAdminPassword: "pw-2" },
    });
    expect(rotated).not.toBe(platformFingerprint({ outputs: platform }));
  });
});

describe("program version", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "program-version-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };

  test("follows the components' and the tenant program's sources, not their tests", () => {
    write("components/tenant/odoo-tenant.ts", "export const a = 1;");
    write("stacks/tenant/program.ts", "export const b = 1;");
    const v1 = programVersion(root, { fresh: true });
    write("components/tenant/odoo-tenant.test.ts", "test('x', () => {});");
    write("api/anything.ts", "export const c = 1;");
    expect(programVersion(root, { fresh: true })).toBe(v1);
    write("components/tenant/odoo-tenant.ts", "export const a = 2;");
    expect(programVersion(root, { fresh: true })).not.toBe(v1);
  });
});
