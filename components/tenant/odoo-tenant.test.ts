import * as pulumi from "@pulumi/pulumi";
import { labelMap, ResourceRecorder, secretValue, valueOf } from "../../test/pulumi-mocks";

const recorder = new ResourceRecorder();
let OdooTenant: typeof import("./odoo-tenant").OdooTenant;
let catalog: import("../../catalog").Catalog;

beforeAll(async () => {
  await recorder.install();
  // Imported after setMocks so nothing is constructed without the mock monitor.
  ({ OdooTenant } = await import("./odoo-tenant"));
  catalog = (await import("../../catalog")).loadCatalog();
});
beforeEach(() => recorder.resources.splice(0));

const platform = (runtime: "container" | "swarm") => ({
  runtime,
  baseDomain: "odoo.example.com",
  entryPoint: "websecure",
  certResolver: "letsencrypt",
  edgeNetwork: "saas-edge",
  dataNetwork: "saas-data",
  postgres: {
    adminHost: "127.0.0.1",
    adminPort: 5432,
    adminUser: "saas_admin",
    adminPassword: "admin-secret",
    sslMode: "disable",
    tenantHost: "postgres",
    tenantPort: 5432,
  },
  filestore: { kind: "local" as const },
  dedicatedPostgresImage: "postgres:16",
});

async function declare(
  overrides: Partial<import("./odoo-tenant").OdooTenantArgs> & { planId?: string } = {},
) {
  const { planId = "standard", ...rest } = overrides;
  const tenant = new OdooTenant("acme", {
    tenantId: "acme",
    customerId: "acme-corp",
    plan: catalog.plan(planId)!,
    odooVersion: "17",
    subdomain: "acme",
    state: "active",
    odooImage: "odoo:17.0",
    templateDatabase: "odoo_template_17",
    databasePassword: "tenant-secret",
    platform: platform("container"),
    ...rest,
  });
  await valueOf(tenant.runtime.urn);
  await recorder.settle();
  return tenant;
}

describe("OdooTenant on the shared PostgreSQL server (container runtime)", () => {
  it("declares exactly provider, role, database, revoke, volume and container, parented to the component", async () => {
    await declare();
    expect(recorder.types()).toEqual(
      [
        "docker:index/container:Container",
        "docker:index/volume:Volume",
        "odoo-saas:tenant:OdooTenant",
        "postgresql:index/grant:Grant",
        "postgresql:index/role:Role",
        "postgresql:index/database:Database",
        "pulumi:providers:postgresql",
      ].sort(),
    );
    expect(recorder.resources.map((r) => r.name).sort()).toEqual(
      [
        "acme",
        "acme-database",
        "acme-filestore",
        "acme-odoo",
        "acme-postgres",
        "acme-revoke-public-connect",
        "acme-role",
      ].sort(),
    );
  });

  it("creates the role and a database cloned from the template, closed to PUBLIC", async () => {
    await declare();
    expect(recorder.one("postgresql:index/role:Role").inputs).toEqual({
      name: "odoo_acme_corp_acme",
      login: true,
      password: secretValue("tenant-secret"),
      connectionLimit: 64,
    });
    expect(recorder.one("postgresql:index/database:Database").inputs).toEqual({
      name: "odoo_acme_corp_acme",
      owner: "odoo_acme_corp_acme",
      template: "odoo_template_17",
      encoding: "UTF8",
      connectionLimit: 64,
    });
    expect(recorder.one("postgresql:index/grant:Grant").inputs).toEqual({
      database: "odoo_acme_corp_acme",
      role: "public",
      objectType: "database",
      privileges: [],
    });
    const provider = recorder.one("pulumi:providers:postgresql").inputs;
    expect(provider).toMatchObject({
      host: "127.0.0.1",
      port: "5432",
      username: "saas_admin",
      sslmode: "disable",
    });
  });

  it("falls back to an empty database from template0 without a template", async () => {
    await declare({ templateDatabase: undefined });
    expect(recorder.one("postgresql:index/database:Database").inputs.template).toBe("template0");
  });

  it("runs Odoo pinned to its database with the plan's limits, health check and routing labels", async () => {
    await declare();
    const c = recorder.one("docker:index/container:Container").inputs;
    expect(c.name).toBe("odoo-acme");
    expect(c.image).toBe("odoo:17.0");
    expect(c.command).toEqual([
      "odoo",
      "--database=odoo_acme_corp_acme",
      "--db-filter=^odoo_acme_corp_acme$",
      "--no-database-list",
      "--proxy-mode",
      "--workers=4",
      "--max-cron-threads=2",
      `--limit-memory-soft=${768 * 1048576}`,
      `--limit-memory-hard=${1536 * 1048576}`,
      "--limit-time-cpu=900",
      "--limit-time-real=1800",
      "--db_maxconn=8",
    ]);
    expect(c.envs).toEqual(
      secretValue([
        "HOST=postgres",
        "PASSWORD=tenant-secret",
        "PORT=5432",
        "USER=odoo_acme_corp_acme",
      ]),
    );
    expect(c.cpus).toBe("2");
    expect(c.memory).toBe(4096);
    expect(c.restart).toBe("unless-stopped");
    expect(c.start).toBe(true);
    expect(c.mustRun).toBe(true);
    expect(c.networksAdvanced).toEqual([{ name: "saas-edge" }, { name: "saas-data" }]);
    expect(c.volumes).toEqual([
      { volumeName: "odoo-acme-filestore", containerPath: "/var/lib/odoo" },
    ]);
    expect(c.healthcheck.tests).toEqual([
      "CMD",
      "curl",
      "-fsS",
      "-o",
      "/dev/null",
      "http://127.0.0.1:8069/web/health",
    ]);
    const labels = labelMap(c.labels);
    expect(labels["traefik.http.routers.odoo-acme-http.rule"]).toBe(
      "Host(`odoo.example.com`)".replace("odoo.", "acme.odoo."),
    );
    expect(labels["traefik.docker.network"]).toBe("saas-edge");
    expect(labels["odoo-saas.tenant"]).toBe("acme");
    expect(labels["odoo-saas.plan"]).toBe("standard");
  });

  it("labels the filestore volume with its owner and the plan's quota", async () => {
    await declare();
    const v = recorder.one("docker:index/volume:Volume").inputs;
    expect(v.name).toBe("odoo-acme-filestore");
    expect(v.driver).toBe("local");
    expect(labelMap(v.labels)).toEqual({
      "odoo-saas.tenant": "acme",
      "odoo-saas.customer": "acme-corp",
      "odoo-saas.plan": "standard",
      "odoo-saas.storage-quota-bytes": String(50 * 1024 ** 3),
    });
  });

  it("keeps the passwords secret in its outputs", async () => {
    const tenant = await declare();
    expect(await pulumi.isSecret(tenant.databasePassword)).toBe(true);
    expect(await valueOf(tenant.url)).toBe("https://acme.odoo.example.com");
  });

  it("suspended: the container is kept but not running; database and volume stay", async () => {
    await declare({ state: "suspended" });
    const c = recorder.one("docker:index/container:Container").inputs;
    expect([c.start, c.mustRun]).toEqual([false, false]);
    expect(recorder.ofType("postgresql:index/database:Database")).toHaveLength(1);
    expect(recorder.ofType("docker:index/volume:Volume")).toHaveLength(1);
  });

  it.each(["trial", "basic", "standard", "premium", "enterprise"])(
    "plan %s sets its own limits",
    async (planId) => {
      await declare({ planId });
      const plan = catalog.plan(planId)!;
      const c = recorder
        .ofType("docker:index/container:Container")
        .find((r) => r.name === "acme-odoo")!.inputs;
      expect([c.cpus, c.memory]).toEqual([String(plan.cpus), plan.memoryMb]);
      expect(c.command).toContain(`--workers=${plan.odoo.workers}`);
      const dedicated = plan.database.placement === "dedicated";
      expect(recorder.ofType("postgresql:index/database:Database")).toHaveLength(dedicated ? 0 : 1);
      expect(recorder.ofType("docker:index/container:Container")).toHaveLength(dedicated ? 2 : 1);
    },
  );
});

describe("OdooTenant with a dedicated PostgreSQL (premium)", () => {
  it("runs its own PostgreSQL on the data network and points Odoo at it", async () => {
    await declare({ planId: "premium" });
    const containers = recorder.ofType("docker:index/container:Container");
    const pg = containers.find((c) => c.name === "acme-postgres")!.inputs;
    expect(pg.name).toBe("odoo-acme-postgres");
    expect(pg.image).toBe("postgres:16");
    expect(pg.command).toEqual(["postgres", "-c", "max_connections=138"]);
    expect(pg.envs).toEqual(
      secretValue([
        "POSTGRES_DB=odoo_acme_corp_acme",
        "POSTGRES_PASSWORD=tenant-secret",
        "POSTGRES_USER=odoo_acme_corp_acme",
      ]),
    );
    expect(pg.networksAdvanced).toEqual([{ name: "saas-data" }]);
    expect(pg.volumes).toEqual([
      { volumeName: "odoo-acme-postgres-data", containerPath: "/var/lib/postgresql/data" },
    ]);
    const odoo = containers.find((c) => c.name === "acme-odoo")!.inputs;
    expect(odoo.envs.value).toContain("HOST=odoo-acme-postgres");
    expect(recorder.ofType("pulumi:providers:postgresql")).toHaveLength(0);
  });
});

describe("OdooTenant on Docker Swarm", () => {
  it("declares a service with labels on the service, limits in nano-CPUs/bytes, one replica", async () => {
    await declare({ platform: platform("swarm"), odooVersion: "15" });
    expect(recorder.ofType("docker:index/container:Container")).toHaveLength(0);
    const s = recorder.one("docker:index/service:Service").inputs;
    expect(s.name).toBe("odoo-acme");
    expect(s.mode).toEqual({ replicated: { replicas: 1 } });
    expect(s.taskSpec.resources.limits).toEqual({ nanoCpus: 2e9, memoryBytes: 4096 * 1048576 });
    // The password reaches the task as a Docker secret file: nothing in the spec is secret.
    expect(s.taskSpec.containerSpec.env).toEqual({
      HOST: "postgres",
      PASSWORD_FILE: "/run/secrets/PASSWORD",
      PORT: "5432",
      USER: "odoo_acme_corp_acme",
    });
    const secret = recorder.one("docker:index/secret:Secret");
    expect(secret.inputs.name).toMatch(/^odoo-acme-password-[0-9a-f]{12}$/);
    expect(secret.inputs.data).toEqual(
      secretValue(Buffer.from("tenant-secret").toString("base64")),
    );
    expect(s.taskSpec.containerSpec.secrets).toEqual([
      {
        secretId: "acme-odoo-password-id",
        secretName: secret.inputs.name,
        fileName: "/run/secrets/PASSWORD",
      },
    ]);
    expect(s.taskSpec.containerSpec.labels).toBeUndefined();
    expect(s.taskSpec.containerSpec.mounts).toEqual([
      {
        type: "volume",
        source: "odoo-acme-filestore",
        target: "/var/lib/odoo",
        volumeOptions: { driverName: "local", driverOptions: {} },
      },
    ]);
    const labels = labelMap(s.labels);
    expect(labels["traefik.swarm.network"]).toBe("saas-edge");
    expect(labels["traefik.http.routers.odoo-acme-realtime.rule"]).toBe(
      "Host(`acme.odoo.example.com`) && PathPrefix(`/longpolling/`)",
    );
  });

  it("suspended: scaled to zero replicas", async () => {
    await declare({ platform: platform("swarm"), state: "suspended" });
    expect(recorder.one("docker:index/service:Service").inputs.mode).toEqual({
      replicated: { replicas: 0 },
    });
  });
});
