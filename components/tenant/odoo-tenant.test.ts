import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_EDGE_POLICY } from "../edge-policy";
import { dockerCpus } from "../workload";
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
  edgeNetwork: { name: "saas-edge", id: "edge-id" },
  dataNetwork: { name: "saas-data", id: "data-id" },
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
  tenantGatewayImage: "odoo-saas/tenant-gateway:latest",
  odooHealthcheckIntervalSeconds: 10,
  odooHealthcheckSteadySeconds: 120,
  swarmEndpointMode: "vip" as const,
  edge: DEFAULT_EDGE_POLICY,
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
    databasePassword: "tenant-secret",
    platform: platform("container"),
    ...rest,
  });
  await valueOf(tenant.volumeName);
  await recorder.settle();
  return tenant;
}

const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
const byName = (name: string) => recorder.resources.find((r) => r.name === name)!;

describe("OdooTenant on the shared PostgreSQL server (container runtime)", () => {
  it("declares database, initialisation, volume and container, parented to the component", async () => {
    await declare();
    expect(recorder.resources.map((r) => `${r.name} ${r.type}`).sort()).toEqual([
      "acme odoo-saas:tenant:OdooTenant",
      `acme-database ${DYNAMIC}`,
      "acme-filestore docker:index/volume:Volume",
      "acme-filestore-release pulumi-nodejs:dynamic:Resource",
      // Its gateway between its own network and the platform's (tenant-gateway.ts).
      "acme-gateway docker:index/container:Container",
      `acme-gateway-cpus ${DYNAMIC}`,
      `acme-init-shared ${DYNAMIC}`,
      "acme-network docker:index/network:Network",
      "acme-odoo docker:index/container:Container",
      // Its CPU limit, changed in place on a plan change (a new `cpus` would replace it).
      `acme-odoo-cpus ${DYNAMIC}`,
      `acme-upgrade ${DYNAMIC}`,
    ]);
    expect(byName("acme-odoo-cpus").inputs).toMatchObject({ cpus: 2 }); // the standard plan
  });

  it("creates the role and its database through the pg provider, passwords secret", async () => {
    await declare({ templateDatabase: "odoo_template_17" });
    const { __provider, ...inputs } = byName("acme-database").inputs;
    expect(typeof __provider).toBe("string");
    expect(inputs).toEqual({
      admin: secretValue({
        host: "127.0.0.1",
        port: 5432,
        user: "saas_admin",
        password: "admin-secret",
        sslMode: "disable",
      }),
      role: "odoo_acme_corp_acme",
      password: secretValue("tenant-secret"),
      database: "odoo_acme_corp_acme",
      template: "odoo_template_17",
      connectionLimit: 42, // 7 processes x db_maxconn 6
    });
  });

  it("through the platform's pooler: Odoo and its initialisation connect there through the gateway, the role limited to the pooled reservation", async () => {
    const pooled = platform("container");
    await declare({
      planId: "trial",
      platform: {
        ...pooled,
        postgres: {
          ...pooled.postgres,
          pooler: { hostPrefix: "saas-postgres-pooler", port: 6432, minTransactionPoolSize: 2 },
        },
      },
    });
    // 3 processes' sessions on `postgres` + a transaction pool of 2 (1 cron worker + 1), + 1 for a backup.
    expect(byName("acme-database").inputs.connectionLimit).toBe(6);
    for (const env of [
      byName("acme-odoo").inputs.envs.value as string[],
      Object.entries(
        byName("acme-init-shared").inputs.env.value ?? byName("acme-init-shared").inputs.env,
      ).map(([k, v]) => `${k}=${v}`),
    ]) {
      expect(env).toContain("HOST=odoo-acme-gateway");
      expect(env).toContain("PORT=5432");
    }
    expect(byName("acme-gateway").inputs.envs).toEqual([
      "DATABASE_HOST=saas-postgres-pooler-2",
      "DATABASE_PORT=6432",
      "ODOO_HOST=odoo-acme",
    ]);
  });

  it("a clone of a template is not initialised again; a new database is, once, before Odoo starts", async () => {
    await declare({ templateDatabase: "odoo_template_17" });
    expect(recorder.resources.find((r) => r.name.startsWith("acme-init"))).toBeUndefined();
    recorder.resources.splice(0);
    await declare();
    const { __provider, ...init } = byName("acme-init-shared").inputs;
    expect(__provider).toEqual(expect.any(String));
    expect(init).toEqual({
      name: "acme-init-shared",
      image: "odoo:17.0",
      command: [
        "odoo",
        "--database=odoo_acme_corp_acme",
        "-i",
        "base",
        "--without-demo=all",
        "--stop-after-init",
      ],
      engine: null, // the control plane's engine
      env: secretValue({
        HOST: "odoo-acme-gateway",
        PORT: "5432",
        USER: "odoo_acme_corp_acme",
        PASSWORD: "tenant-secret",
      }),
      networks: ["odoo-acme-net"],
      mounts: [{ source: "odoo-acme-filestore", target: "/var/lib/odoo" }],
      labels: { "odoo-saas.tenant": "acme", "odoo-saas.customer": "acme-corp" },
      triggers: { database: "acme-database-id" },
      timeoutSeconds: 900,
      runOnCreate: true,
    });
  });

  it("a new build of the Odoo image updates every module once, with that image, not at creation", async () => {
    await declare({ odooImage: "odoo:17.0-20261101" });
    const { __provider, ...upgrade } = byName("acme-upgrade").inputs;
    expect(__provider).toEqual(expect.any(String));
    expect(upgrade).toMatchObject({
      image: "odoo:17.0-20261101",
      command: ["odoo", "--database=odoo_acme_corp_acme", "-u", "all", "--stop-after-init"],
      networks: ["odoo-acme-net"],
      mounts: [{ source: "odoo-acme-filestore", target: "/var/lib/odoo" }],
      triggers: { image: "odoo:17.0-20261101" },
      runOnCreate: false,
    });
  });

  it("runs Odoo pinned to its database with the plan's limits and health check, on its own network alone", async () => {
    await declare();
    const c = byName("acme-odoo").inputs;
    expect(c.name).toBe("odoo-acme");
    expect(c.image).toBe("odoo:17.0");
    expect(c.command).toEqual([
      "odoo",
      "--database=odoo_acme_corp_acme",
      "--no-database-list",
      "--proxy-mode",
      "--workers=4",
      "--max-cron-threads=2",
      `--limit-memory-soft=${576 * 1048576}`, // 7 processes x 576 MB fit in 4096 MB
      `--limit-memory-hard=${1536 * 1048576}`,
      "--limit-time-cpu=900",
      "--limit-time-real=1800",
      "--db_maxconn=6",
    ]);
    expect(c.envs).toEqual(
      secretValue([
        "HOST=odoo-acme-gateway",
        "PASSWORD=tenant-secret",
        "PORT=5432",
        "USER=odoo_acme_corp_acme",
      ]),
    );
    expect([c.cpus, c.memory, c.memorySwap]).toEqual(["2.0", 4096, 4096]);
    expect(c.restart).toBe("unless-stopped");
    expect(c.logOpts).toEqual({ "max-size": "10m", "max-file": "3" });
    expect(c.networksAdvanced).toEqual([{ name: "odoo-acme-net" }]);
    expect(c.volumes).toEqual([
      { volumeName: "odoo-acme-filestore", containerPath: "/var/lib/odoo" },
    ]);
    // Durations as the provider reads them back (Go's form), or every preview shows a diff.
    expect(c.healthcheck).toEqual({
      tests: [
        "CMD-SHELL",
        expect.stringContaining(
          "sleep 120; if curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:8069/web/health;",
        ),
      ],
      interval: "10s",
      timeout: "2m10s",
      retries: 3,
      startPeriod: "2m0s",
    });
    // Routed through its gateway, not directly.
    expect(labelMap(c.labels)).toEqual({
      "odoo-saas.tenant": "acme",
      "odoo-saas.customer": "acme-corp",
      "odoo-saas.plan": "standard",
    });
  });

  it("has a network of its own; its gateway alone joins it to the edge and data networks, and is what Traefik routes to", async () => {
    await declare();
    expect(byName("acme-network").inputs).toEqual({
      name: "odoo-acme-net",
      driver: "bridge",
      labels: [
        { label: "odoo-saas.tenant", value: "acme" },
        { label: "odoo-saas.customer", value: "acme-corp" },
      ],
    });
    const g = byName("acme-gateway").inputs;
    expect(g.name).toBe("odoo-acme-gateway");
    expect(g.image).toBe("odoo-saas/tenant-gateway:latest");
    expect(g.networksAdvanced).toEqual([
      { name: "odoo-acme-net" },
      { name: "saas-edge" },
      { name: "saas-data" },
    ]);
    expect(g.envs).toEqual(["DATABASE_HOST=postgres", "DATABASE_PORT=5432", "ODOO_HOST=odoo-acme"]);
    const labels = labelMap(g.labels);
    expect(labels["traefik.http.routers.odoo-acme-http.rule"]).toBe(
      "Host(`acme.odoo.example.com`)",
    );
    expect(labels["traefik.docker.network"]).toBe("saas-edge");
    expect(labels["odoo-saas.tenant"]).toBe("acme");
    // A plan change does not touch it (a label change replaces a container).
    expect(labels["odoo-saas.plan"]).toBeUndefined();
  });

  it("labels the filestore volume only with what never changes (its labels are replace-on-change)", async () => {
    await declare();
    const v = recorder.one("docker:index/volume:Volume").inputs;
    expect(v.name).toBe("odoo-acme-filestore");
    expect(v.driver).toBe("local");
    expect(labelMap(v.labels)).toEqual({
      "odoo-saas.tenant": "acme",
      "odoo-saas.customer": "acme-corp",
    });
  });

  it("on CephFS: its directory first (owner, the plan's quota), then a kernel mount with the key kept secret", async () => {
    await declare({
      platform: {
        ...platform("container"),
        filestore: {
          kind: "cephfs",
          monitors: "10.0.0.1:6789",
          root: "/volumes/saas",
          user: "odoo",
          adminMountPath: "/mnt/cephfs",
          owner: "101:101",
        },
        filestoreKey: "AQBcephxkey==",
      },
    });
    expect(byName("acme-filestore-directory").inputs).toMatchObject({
      path: "/mnt/cephfs/volumes/saas/odoo_instances/acme",
      owner: "101:101",
      quotaBytes: 50 * 1024 ** 3, // standard: 50 GB
      quotaAttribute: "ceph.quota.max_bytes",
    });
    const volume = recorder.one("docker:index/volume:Volume").inputs;
    expect(volume.driverOpts).toEqual(
      secretValue({
        type: "ceph",
        device: "10.0.0.1:6789:/volumes/saas/odoo_instances/acme",
        o: "name=odoo,secret=AQBcephxkey==",
      }),
    );
  });

  it("Odoo reads a configuration file of its own (ODOO_RC) with a hashed master password", async () => {
    await declare({ odooMasterPassword: "master-secret" });
    const c = byName("acme-odoo").inputs;
    expect(c.envs.value).toContain("ODOO_RC=/run/odoo-saas/odoo_rc");
    expect(c.uploads).toEqual(
      secretValue([
        {
          file: "/run/odoo-saas/odoo_rc",
          content: expect.stringMatching(/admin_passwd = \$pbkdf2-sha512\$25000\$/),
        },
      ]),
    );
    expect(JSON.stringify(c)).not.toContain("master-secret");
  });

  it("keeps the passwords secret in its outputs", async () => {
    const tenant = await declare();
    expect(await pulumi.isSecret(tenant.databasePassword)).toBe(true);
    expect(await valueOf(tenant.url)).toBe("https://acme.odoo.example.com");
  });

  it("suspended: no Odoo container (the provider cannot stop one), its gateway unrouted; database and volume stay", async () => {
    const tenant = await declare({ state: "suspended" });
    expect(tenant.runtime).toBeUndefined();
    const [gateway, ...others] = recorder.ofType("docker:index/container:Container");
    expect([gateway.inputs.name, others]).toEqual(["odoo-acme-gateway", []]);
    expect(labelMap(gateway.inputs.labels)).toEqual({
      "odoo-saas.tenant": "acme",
      "odoo-saas.customer": "acme-corp",
    });
    expect(byName("acme-database")).toBeDefined();
    expect(recorder.ofType("docker:index/volume:Volume")).toHaveLength(1);
  });

  it("sleeping: no Odoo container, its gateway still routed (it wakes the tenant); database and volume stay", async () => {
    const tenant = await declare({ state: "sleeping" });
    expect(tenant.runtime).toBeUndefined();
    const [gateway, ...others] = recorder.ofType("docker:index/container:Container");
    expect([gateway.inputs.name, others]).toEqual(["odoo-acme-gateway", []]);
    expect(labelMap(gateway.inputs.labels)["traefik.http.routers.odoo-acme-http.rule"]).toBe(
      "Host(`acme.odoo.example.com`)",
    );
    expect(byName("acme-database")).toBeDefined();
    expect(recorder.ofType("docker:index/volume:Volume")).toHaveLength(1);
  });

  it("with the platform's waker, the gateway knows where to wake its tenant, its token kept secret", async () => {
    const waker = { url: "http://saas-api:3000", holdSeconds: 45, activityReportSeconds: 30 };
    await declare({
      platform: { ...platform("container"), waker },
      gatewayToken: pulumi.secret("gw-secret"),
    });
    expect(byName("acme-gateway").inputs.envs).toEqual(
      secretValue([
        "ACTIVITY_REPORT_SECONDS=30",
        "DATABASE_HOST=postgres",
        "DATABASE_PORT=5432",
        "HOLD_SECONDS=45",
        "ODOO_HOST=odoo-acme",
        "TENANT=acme",
        "WAKER_TOKEN=gw-secret",
        "WAKER_URL=http://saas-api:3000",
      ]),
    );
  });

  it("Odoo 14 has no /web/health: a TCP check of its HTTP port instead", async () => {
    await declare({ odooVersion: "14" });
    const c = byName("acme-odoo").inputs;
    expect(c.healthcheck.tests).toEqual([
      "CMD-SHELL",
      expect.stringContaining(
        `if python3 -c "import socket; socket.create_connection(('127.0.0.1', 8069), 5)"; then`,
      ),
    ]);
  });

  it.each(["trial", "basic", "standard", "premium", "enterprise"])(
    "plan %s sets its own limits",
    async (planId) => {
      await declare({ planId, databaseSuperuserPassword: "superuser-secret" });
      const plan = catalog.plan(planId)!;
      const c = byName("acme-odoo").inputs;
      expect([c.cpus, c.memory]).toEqual([dockerCpus(plan.cpus), plan.memoryMb]);
      expect(c.command).toContain(`--workers=${plan.odoo.workers}`);
      const dedicated = plan.database.placement === "dedicated";
      expect(recorder.resources.some((r) => r.name === "acme-database")).toBe(!dedicated);
      expect(
        recorder
          .ofType("docker:index/container:Container")
          .map((c) => c.name)
          .sort(),
      ).toEqual(
        dedicated ? ["acme-gateway", "acme-odoo", "acme-postgres"] : ["acme-gateway", "acme-odoo"],
      );
    },
  );
});

describe("OdooTenant with a dedicated PostgreSQL (premium)", () => {
  it("runs its own PostgreSQL on the tenant's own network, initialises it and points Odoo at it", async () => {
    await declare({ planId: "premium", databaseSuperuserPassword: "superuser-secret" });
    const pg = byName("acme-postgres").inputs;
    expect(pg.name).toBe("odoo-acme-postgres");
    expect(pg.image).toBe("postgres:16");
    expect(pg.command).toEqual(["postgres", "-c", "max_connections=138"]);
    expect([pg.cpus, pg.memory, pg.memorySwap]).toEqual(["4.0", 8192, 8192]);
    // The image's superuser is `postgres`, with a password Odoo never sees.
    expect(pg.envs).toEqual(secretValue(["POSTGRES_PASSWORD=superuser-secret"]));
    expect(pg.networksAdvanced).toEqual([{ name: "odoo-acme-net" }]);
    expect(pg.volumes).toEqual([
      { volumeName: "odoo-acme-postgres-data", containerPath: "/var/lib/postgresql/data" },
    ]);
    const odooEnv = byName("acme-odoo").inputs.envs.value as string[];
    expect(odooEnv).toContain("HOST=odoo-acme-postgres");
    expect(odooEnv).toContain("USER=odoo_acme_corp_acme");
    expect(odooEnv.join(" ")).not.toContain("superuser-secret");
    expect(byName("acme-init-dedicated").inputs.triggers).toEqual({ database: "acme-pgdata-id" });
  });

  it("makes the tenant's role a plain owner of its database (no superuser), once per server", async () => {
    await declare({ planId: "premium", databaseSuperuserPassword: "superuser-secret" });
    const owner = byName("acme-owner").inputs;
    expect(owner.image).toBe("postgres:16");
    expect(owner.command[2]).toContain("NOSUPERUSER NOCREATEDB NOCREATEROLE");
    expect(owner.env).toEqual(
      secretValue({
        PGHOST: "odoo-acme-postgres",
        PGPASSWORD: "superuser-secret",
        TENANT_ROLE: "odoo_acme_corp_acme",
        TENANT_PASSWORD: "tenant-secret",
        TENANT_DATABASE: "odoo_acme_corp_acme",
        TENANT_CONNECTION_LIMIT: "128",
      }),
    );
    expect(owner.triggers).toEqual({ server: "acme-pgdata-id", connectionLimit: "128" });
  });

  it("refuses a dedicated plan without a superuser password", async () => {
    await expect(declare({ planId: "premium" })).rejects.toThrow(/databaseSuperuserPassword/);
  });
});

describe("OdooTenant's databases: where it serves from, and what it keeps", () => {
  const premium = { planId: "premium", databaseSuperuserPassword: "superuser-secret" };
  const names = () => recorder.resources.map((r) => r.name);
  const odooEnv = () => byName("acme-odoo").inputs.envs.value as string[];

  it("a move's preparation: the dedicated target exists and runs beside the shared source Odoo serves from", async () => {
    await declare({
      ...premium,
      databases: { serving: "shared", kept: ["dedicated"], serversRunning: true },
    });
    expect(names()).toEqual(
      expect.arrayContaining([
        "acme-database",
        "acme-pgdata",
        "acme-postgres",
        "acme-owner",
        "acme-init-shared",
        "acme-init-dedicated",
      ]),
    );
    expect(odooEnv()).toContain("HOST=odoo-acme-gateway");
    // The target is initialised on its own, without the tenant's files (they are the source's).
    expect(byName("acme-init-dedicated").inputs.mounts).toEqual([]);
    expect(byName("acme-init-shared").inputs.mounts).toEqual([
      { source: "odoo-acme-filestore", target: "/var/lib/odoo" },
    ]);
  });

  it("after the switch: Odoo on the dedicated server, the shared database kept, not dropped", async () => {
    await declare({ ...premium, databases: { serving: "dedicated", kept: ["shared"] } });
    expect(odooEnv()).toContain("HOST=odoo-acme-postgres");
    expect(names()).toContain("acme-database");
  });

  it("a kept dedicated server does not run (its volume stays); nor does its role's one-shot", async () => {
    await declare({
      planId: "standard",
      databaseSuperuserPassword: "superuser-secret",
      databases: { serving: "shared", kept: ["dedicated"] },
    });
    expect(names()).toEqual(expect.arrayContaining(["acme-pgdata", "acme-pgdata-release"]));
    expect(names()).not.toContain("acme-postgres");
    expect(names()).not.toContain("acme-owner");
  });

  it("the platform's cap bounds the limits of Odoo and of a dedicated server (a small host)", async () => {
    await declare({
      ...premium,
      platform: { ...platform("container"), tenantLimitCap: { cpus: 2 } },
    });
    expect(byName("acme-odoo-cpus").inputs).toMatchObject({ cpus: 2 });
    expect(byName("acme-postgres").inputs.cpus).toBe("2.0");
    expect(byName("acme-odoo").inputs.memory).toBe(8192); // memory uncapped
  });

  it("the URL carries the port where the edge is not on 443", async () => {
    const local = await declare({ platform: { ...platform("container"), publicHttpsPort: 8443 } });
    expect(await valueOf(local.url)).toBe("https://acme.odoo.example.com:8443");
    const prod = await declare({ platform: { ...platform("container"), publicHttpsPort: 443 } });
    expect(await valueOf(prod.url)).toBe("https://acme.odoo.example.com");
  });
});

describe("OdooTenant on Docker Swarm", () => {
  const odooService = () => byName("acme-odoo");

  it("declares a service: labels on the service, networks by id, limits in nano-CPUs/bytes", async () => {
    await declare({ platform: platform("swarm"), odooVersion: "15" });
    expect(recorder.ofType("docker:index/container:Container")).toHaveLength(0);
    const s = odooService().inputs;
    const gateway = byName("acme-gateway").inputs;
    expect(s.name).toBe("odoo-acme");
    expect(s.mode).toEqual({ replicated: { replicas: 1 } });
    expect(s.taskSpec.resources.limits).toEqual({ nanoCpus: 2e9, memoryBytes: 4096 * 1048576 });
    expect(s.taskSpec.networksAdvanceds).toEqual([{ id: "acme-network-id" }]);
    expect(gateway.taskSpec.networksAdvanceds).toEqual([
      { id: "acme-network-id" },
      { id: "edge-id" },
      { id: "data-id" },
    ]);
    expect(byName("acme-network").inputs).toMatchObject({ driver: "overlay", attachable: true });
    // Durations and the restart policy spelled as the provider reads them back.
    expect(s.taskSpec.restartPolicy).toEqual({ condition: "any", delay: "5s", window: "1m" });
    expect(s.taskSpec.containerSpec.healthcheck).toMatchObject({
      interval: "10s",
      timeout: "2m10s",
      startPeriod: "2m",
    });
    // The password reaches the task as a Docker secret file: nothing in the spec is secret.
    expect(s.taskSpec.containerSpec.env).toEqual({
      HOST: "odoo-acme-gateway",
      PASSWORD_FILE: "/run/secrets/PASSWORD",
      PORT: "5432",
      USER: "odoo_acme_corp_acme",
    });
    const [secret] = recorder.ofType("docker:index/secret:Secret");
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
    expect(s.taskSpec.containerSpec.mounts).toEqual([
      {
        type: "volume",
        source: "odoo-acme-filestore",
        target: "/var/lib/odoo",
        volumeOptions: { driverName: "local", driverOptions: {} },
      },
    ]);
    const labels = labelMap(gateway.labels);
    expect(labels["traefik.swarm.network"]).toBe("saas-edge");
    expect(labels["traefik.http.routers.odoo-acme-realtime.rule"]).toBe(
      "Host(`acme.odoo.example.com`) && PathPrefix(`/longpolling/`)",
    );
  });

  it("kept on the node of its local volumes; free to move with CephFS", async () => {
    const pinned = { ...platform("swarm"), swarmVolumeConstraint: "node.id == n1" };
    await declare({ platform: pinned, planId: "premium", databaseSuperuserPassword: "su" });
    const services = recorder.ofType("docker:index/service:Service");
    for (const svc of services)
      expect([svc.inputs.name, svc.inputs.taskSpec.placement]).toEqual([
        svc.inputs.name,
        { constraints: ["node.id == n1"] },
      ]);
    expect(services.map((x) => x.inputs.name).sort()).toEqual([
      "odoo-acme",
      "odoo-acme-gateway", // where Odoo is: a request crosses the cluster's network once
      "odoo-acme-postgres",
    ]);
    recorder.resources.splice(0);
    await declare({
      planId: "premium",
      databaseSuperuserPassword: "su",
      platform: {
        ...pinned,
        filestore: {
          kind: "cephfs",
          monitors: "10.0.0.1",
          root: "/saas",
          user: "odoo",
          adminMountPath: "/mnt/ceph",
          owner: "101:101",
        },
        filestoreKey: "key",
      },
    });
    const placement = Object.fromEntries(
      recorder
        .ofType("docker:index/service:Service")
        .map((x) => [x.inputs.name, (x.inputs.taskSpec.value ?? x.inputs.taskSpec).placement]),
    );
    // The dedicated server's data volume is still local.
    expect(placement).toEqual({
      "odoo-acme": undefined,
      "odoo-acme-gateway": undefined,
      "odoo-acme-postgres": { constraints: ["node.id == n1"] },
    });
  });

  it("on a tenant node: its volumes made by that node's engine, its one-shots run there", async () => {
    const onNode = {
      ...platform("swarm"),
      swarmVolumeConstraint: "node.hostname == w2",
      volumeNodes: { serving: { hostname: "w2", engine: "tcp://10.0.0.12:2375" }, kept: [] },
    };
    await declare({ platform: onNode, planId: "premium", databaseSuperuserPassword: "su" });
    const engine = recorder.one("pulumi:providers:docker");
    expect([engine.name, engine.inputs.host]).toEqual(["acme-engine-w2", "tcp://10.0.0.12:2375"]);
    const volumes = recorder.ofType("docker:index/volume:Volume");
    expect(volumes.map((v) => [v.name, v.inputs.name]).sort()).toEqual([
      ["acme-filestore-w2", "odoo-acme-filestore"],
      ["acme-pgdata-w2", "odoo-acme-postgres-data"],
    ]);
    for (const v of volumes) expect(v.provider).toMatch(/::acme-engine-w2::/);
    const nodeEngine = { host: "10.0.0.12", port: 2375, protocol: "http" };
    const dynamic = recorder.resources.filter((r) =>
      /-(init-dedicated|upgrade|release-w2)$/.test(r.name),
    );
    expect(dynamic.map((r) => [r.name, r.inputs.engine])).toEqual(
      dynamic.map((r) => [r.name, nodeEngine]),
    );
    expect(dynamic.length).toBe(4); // init, upgrade, and both volumes' releases
    for (const svc of recorder.ofType("docker:index/service:Service"))
      expect(svc.inputs.taskSpec.placement).toEqual({ constraints: ["node.hostname == w2"] });
  });

  it("during a move between nodes the source keeps its copy of the files, unused", async () => {
    const moving = {
      ...platform("swarm"),
      swarmVolumeConstraint: "node.hostname == w2",
      volumeNodes: {
        serving: { hostname: "w2", engine: "tcp://10.0.0.12:2375" },
        kept: [{ hostname: "w1", engine: "tcp://10.0.0.11:2375" }],
      },
    };
    await declare({ platform: moving });
    const volumes = recorder.ofType("docker:index/volume:Volume");
    expect(volumes.map((v) => [v.name, v.inputs.name, v.provider?.split("::")[3]]).sort()).toEqual([
      ["acme-filestore-w1", "odoo-acme-filestore", "acme-engine-w1"],
      ["acme-filestore-w2", "odoo-acme-filestore", "acme-engine-w2"],
    ]);
    const service = odooService().inputs.taskSpec;
    expect(service.placement).toEqual({ constraints: ["node.hostname == w2"] });
    expect(service.containerSpec.mounts.map((m: { source: string }) => m.source)).toEqual([
      "odoo-acme-filestore",
    ]);
  });

  it("Odoo's configuration file is a Docker secret file named by ODOO_RC", async () => {
    await declare({ platform: platform("swarm"), odooMasterPassword: "master-secret" });
    const spec = odooService().inputs.taskSpec.containerSpec;
    expect(spec.env.ODOO_RC).toBe("/run/secrets/ODOO_RC");
    const file = recorder.resources.find((r) => r.name === "acme-odoo-odoo_rc-file")!;
    expect(Buffer.from(file.inputs.data.value, "base64").toString()).toMatch(
      /^\[options\][^]*admin_passwd = \$pbkdf2-sha512\$/,
    );
    expect(spec.secrets.map((x: { fileName: string }) => x.fileName).sort()).toEqual([
      "/run/secrets/ODOO_RC",
      "/run/secrets/PASSWORD",
    ]);
  });

  it("suspended: scaled to zero replicas", async () => {
    await declare({ platform: platform("swarm"), state: "suspended" });
    expect(odooService().inputs.mode).toEqual({
      replicated: { replicas: 0 },
    });
  });

  it("sleeping: scaled to zero replicas, its gateway still routed", async () => {
    await declare({ platform: platform("swarm"), state: "sleeping" });
    expect(odooService().inputs.mode).toEqual({ replicated: { replicas: 0 } });
    const gateway = recorder.resources.find((r) => r.name === "acme-gateway")!;
    // Updated start-first: a new database target never leaves the tenant's name unanswered.
    expect(gateway.inputs.updateConfig.order).toBe("start-first");
    expect(odooService().inputs.updateConfig).toBeUndefined();
    const labels = labelMap(gateway.inputs.labels);
    expect(labels["traefik.http.routers.odoo-acme-http.rule"]).toBe(
      "Host(`acme.odoo.example.com`)",
    );
  });
});
