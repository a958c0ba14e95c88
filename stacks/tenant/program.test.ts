import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { defaultTenantSettings } from "../../test/fixtures";
import { ResourceRecorder, secretValue, valueOf } from "../../test/pulumi-mocks";

const platformStack = "organization/odoo-saas-platform/prod";
const tenantSettings = {
  ...defaultTenantSettings,
  odooImages: { "17": "registry.example.com/odoo:17.0-20261101" },
  templateDatabases: { "17": "odoo_template_17" },
};
const recorder = new ResourceRecorder({
  [platformStack]: {
    outputs: { tenantSettings, postgresAdminPassword: "pg-admin" },
    secret: ["postgresAdminPassword"],
  },
  "organization/odoo-saas-platform/broken": { outputs: { tenantSettings: { runtime: "nomad" } } },
});
let mod: typeof import("./program");
let specs: typeof import("./tenant-spec");

beforeAll(async () => {
  await recorder.install();
  pulumi.runtime.setAllConfig({ "tenant:databasePassword": "tenant-secret" }, [
    "tenant:databasePassword",
  ]);
  mod = await import("./program");
  specs = await import("./tenant-spec");
});
beforeEach(() => recorder.resources.splice(0));

const database = () => recorder.resources.find((r) => r.name === "acme-database")!;
const odoo = () => recorder.resources.find((r) => r.name === "acme-odoo")!;

const spec = (patch: object = {}) =>
  specs.parseTenantSpec({
    tenantId: "acme",
    customerId: "acme-corp",
    plan: "basic",
    odooVersion: "17",
    adminEmail: "owner@acme.example",
    ...patch,
  });

describe("tenant program", () => {
  it("reads the platform through a StackReference and declares the tenant with its image and template", async () => {
    const outputs = (await mod.tenantProgram(spec(), { platformStack })()) as Record<
      string,
      pulumi.Output<unknown>
    >;
    expect(await valueOf(outputs.url)).toBe("https://acme.odoo.example.com");
    expect(await valueOf(outputs.databaseName)).toBe("odoo_acme_corp_acme");
    await recorder.settle();
    expect(recorder.one("pulumi:pulumi:StackReference").inputs.name).toBe(platformStack);
    const container = odoo().inputs;
    expect(container.image).toBe("registry.example.com/odoo:17.0-20261101");
    const db = database().inputs;
    expect(db.template).toBe("odoo_template_17");
    expect(db.password).toEqual(secretValue("tenant-secret"));
    expect(db.admin.value.password).toBe("pg-admin");
  });

  it("uses the official image and an empty database for a version the platform has nothing for", async () => {
    await mod.tenantProgram(spec({ odooVersion: "15" }), { platformStack })();
    await recorder.settle();
    expect(odoo().inputs.image).toBe("odoo:15.0");
    expect(database().inputs.template).toBe("");
    expect(recorder.resources.find((r) => r.name === "acme-init-shared")!.inputs.image).toBe(
      "odoo:15.0",
    );
  });

  it("a suspended spec keeps everything but does not run Odoo", async () => {
    const outputs = (await mod.tenantProgram(spec({ state: "suspended" }), {
      platformStack,
    })()) as Record<string, pulumi.Output<unknown>>;
    expect(await valueOf(outputs.state)).toBe("suspended");
    await recorder.settle();
    // Only its gateway, unrouted (components/tenant/tenant-gateway.ts).
    expect(recorder.ofType("docker:index/container:Container").map((c) => c.name)).toEqual([
      "acme-gateway",
    ]);
    expect(database()).toBeDefined();
    expect(recorder.ofType("docker:index/volume:Volume")).toHaveLength(1);
  });

  it("generates the tenant's passwords as resources of its own (kept in its state), adopting one from its config", async () => {
    const outputs = (await mod.tenantProgram(spec(), { platformStack })()) as Record<
      string,
      pulumi.Output<unknown>
    >;
    await recorder.settle();
    const generated = recorder.ofType("pulumi-nodejs:dynamic/odoo-saas:GeneratedSecret");
    expect(generated.map((r) => r.name).sort()).toEqual([
      "acme-database-password",
      "acme-gateway-token",
      "acme-odoo-master-password",
      "acme-superuser-password",
    ]);
    // The config's (a stack from before) is adopted; the others have none to adopt.
    expect(generated.find((r) => r.name === "acme-database-password")!.inputs.initial).toEqual(
      secretValue("tenant-secret"),
    );
    for (const key of ["databasePassword", "databaseSuperuserPassword", "odooMasterPassword"])
      expect(await pulumi.isSecret(outputs[key])).toBe(true);
    expect(await valueOf(outputs.databaseSuperuserPassword)).toBe(
      "acme-superuser-password-generated",
    );
    // The gateway's token stays in the state; the API gets only its hash, as a plain output.
    expect(await pulumi.isSecret(outputs.gatewayTokenHash)).toBe(false);
    expect(await valueOf(outputs.gatewayTokenHash)).toBe(
      createHash("sha256").update("acme-gateway-token-generated").digest("hex"),
    );
  });

  it("fails clearly when the platform's outputs are not what it needs", async () => {
    await expect(
      mod.tenantProgram(spec(), { platformStack: "organization/odoo-saas-platform/broken" })(),
    ).rejects.toThrow(/has no valid tenantSettings output:\nruntime: /);
  });
});
