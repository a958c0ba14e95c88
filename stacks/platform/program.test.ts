import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../../api/config";
import { ALERT_RULES } from "../../components/platform/alert-rules";
import { KILLBILL_ALIVE } from "../../components/platform/killbill";
import { defaultTenantSettings } from "../../test/fixtures";
import { labelMap, ResourceRecorder, valueOf } from "../../test/pulumi-mocks";

const recorder = new ResourceRecorder();
let platformProgram: typeof import("./program").platformProgram;

beforeAll(async () => {
  await recorder.install();
  ({ platformProgram } = await import("./program"));
});
beforeEach(() => recorder.resources.splice(0));

/** Sets the stack config as `pulumi config set` would (objects as JSON, secrets marked). */
function configure(values: Record<string, unknown>, secrets: Record<string, string> = {}) {
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...values, ...secrets }))
    all[`odoo-saas-test:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(
    all,
    Object.keys(secrets).map((k) => `odoo-saas-test:${k}`),
  );
}

async function run() {
  const outputs = platformProgram();
  const settings = await valueOf(outputs.tenantSettings);
  await recorder.settle();
  return { outputs, settings };
}

const names = () =>
  recorder.resources
    .filter((r) => r.custom && r.type.startsWith("docker:"))
    .map((r) => `${r.type} ${r.inputs.name}`)
    .sort();

describe("platform program", () => {
  it("container runtime without Kill Bill: networks, Traefik, PostgreSQL, Redis", async () => {
    configure(
      { baseDomain: "odoo.example.com", traefik: { acmeEmail: "ops@example.com" } },
      { postgresAdminPassword: "pg-admin" },
    );
    const { outputs, settings } = await run();
    expect(names()).toEqual([
      "docker:index/container:Container saas-postgres",
      "docker:index/container:Container saas-redis",
      "docker:index/container:Container saas-traefik",
      "docker:index/network:Network saas-control",
      "docker:index/network:Network saas-data",
      "docker:index/network:Network saas-edge",
      "docker:index/network:Network saas-mgmt",
      "docker:index/volume:Volume saas-postgres-data",
      "docker:index/volume:Volume saas-redis-data",
      "docker:index/volume:Volume saas-traefik-acme",
    ]);
    const nets = recorder.ofType("docker:index/network:Network");
    expect(nets.find((n) => n.inputs.name === "saas-data")!.inputs).toMatchObject({
      driver: "bridge",
      internal: true,
    });
    expect(nets.find((n) => n.inputs.name === "saas-edge")!.inputs).toMatchObject({
      driver: "bridge",
      internal: false,
    });
    // Redis is on the control network only: tenants (edge and data) cannot reach the queues.
    const redis = recorder
      .ofType("docker:index/container:Container")
      .find((c) => c.inputs.name === "saas-redis")!.inputs;
    expect(redis.networksAdvanced).toEqual([{ name: "saas-control" }]);
    const traefik = recorder
      .ofType("docker:index/container:Container")
      .find((c) => c.inputs.name === "saas-traefik")!;
    expect(traefik.inputs.command).toEqual([
      "--providers.docker=true",
      "--providers.docker.exposedbydefault=false",
      "--providers.docker.network=saas-edge",
      "--entrypoints.web.address=:80",
      "--entrypoints.web.http.redirections.entrypoint.to=websecure",
      "--entrypoints.web.http.redirections.entrypoint.scheme=https",
      "--entrypoints.websecure.address=:443",
      "--entrypoints.websecure.transport.respondingTimeouts.readTimeout=600s",
      "--api.dashboard=false",
      "--ping=true",
      "--ping.entrypoint=web",
      "--log.format=json",
      "--certificatesresolvers.letsencrypt.acme.email=ops@example.com",
      "--certificatesresolvers.letsencrypt.acme.storage=/letsencrypt/acme.json",
      "--certificatesresolvers.letsencrypt.acme.caserver=https://acme-v02.api.letsencrypt.org/directory",
      "--certificatesresolvers.letsencrypt.acme.tlschallenge=true",
    ]);
    const pg = recorder
      .ofType("docker:index/container:Container")
      .find((c) => c.inputs.name === "saas-postgres")!;
    // Published on loopback from the (non-internal) management network: Docker publishes nothing
    // of a container that is only on an internal network.
    expect(pg.inputs.ports).toEqual([{ internal: 5432, external: 5432, ip: "127.0.0.1" }]);
    expect(pg.inputs.networksAdvanced).toEqual([{ name: "saas-data" }, { name: "saas-mgmt" }]);
    expect(pg.inputs.command).toEqual(["postgres", "-c", "max_connections=440"]); // 20 + 10 tenants x 42
    expect(nets.find((n) => n.inputs.name === "saas-mgmt")!.inputs.internal).toBeUndefined();
    expect(settings).toEqual(defaultTenantSettings);
    expect(await pulumi.isSecret(outputs.postgresAdminPassword)).toBe(true);
    expect(await pulumi.isSecret(outputs.tenantSettings)).toBe(false);
  });

  it("Swarm with Kill Bill, Kaui and the API: overlay networks, services, routes on the service", async () => {
    configure(
      {
        baseDomain: "odoo.example.com",
        runtime: "swarm",
        swarmVolumeNode: "node-a",
        killbill: { enabled: true, kaui: true },
        api: { enabled: true },
        monitoring: { enabled: false },
      },
      {
        postgresAdminPassword: "pg-admin",
        killbillDatabasePassword: "kb-db",
        apiDatabasePassword: "api-db",
        apiAdminToken: "token",
      },
    );
    const { outputs } = await run();
    // The only containers: the loopback relays to the shared PostgreSQL and to the API (the
    // operator's way in) on the control plane's node.
    const relays = recorder
      .ofType("docker:index/container:Container")
      .map((c) => c.inputs)
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(relays).toEqual([
      expect.objectContaining({
        name: "saas-api-relay",
        command: ["TCP-LISTEN:3000,fork,reuseaddr", "TCP:saas-api:3000"],
        networksAdvanced: [{ name: "saas-control" }],
        ports: [{ internal: 3000, external: 3000, ip: "127.0.0.1" }],
      }),
      expect.objectContaining({
        name: "saas-postgres-admin-relay",
        command: ["TCP-LISTEN:5432,fork,reuseaddr", "TCP:saas-postgres:5432"],
        networksAdvanced: [{ name: "saas-mgmt" }, { name: "saas-data" }],
        ports: [{ internal: 5432, external: 5432, ip: "127.0.0.1" }],
      }),
    ]);
    const pgService = recorder
      .ofType("docker:index/service:Service")
      .find((s) => s.inputs.name === "saas-postgres")!.inputs;
    expect(pgService.endpointSpec.ports).toBeUndefined(); // never published on every address of a node
    expect(
      recorder
        .ofType("docker:index/service:Service")
        .map((s) => s.inputs.name)
        .sort(),
    ).toEqual([
      "saas-api",
      "saas-kaui",
      "saas-killbill",
      "saas-killbill-postgres",
      "saas-postgres",
      "saas-redis",
      "saas-traefik",
    ]);
    for (const n of recorder.ofType("docker:index/network:Network"))
      expect(n.inputs).toMatchObject(
        n.inputs.name === "saas-mgmt"
          ? { driver: "bridge" }
          : { driver: "overlay", attachable: true },
      );
    // Billing and the queues sit on the control network, which tenants never join.
    const networksOf = (service: string) =>
      recorder.ofType("docker:index/service:Service").find((x) => x.inputs.name === service)!.inputs
        .taskSpec.networksAdvanceds ??
      recorder.ofType("docker:index/service:Service").find((x) => x.inputs.name === service)!.inputs
        .taskSpec.value.networksAdvanceds;
    expect(networksOf("saas-redis")).toEqual([{ id: "platform-control-id" }]);
    expect(networksOf("saas-killbill")).toEqual([{ id: "platform-control-id" }]);
    expect(networksOf("saas-killbill-postgres")).toEqual([{ id: "platform-control-id" }]);
    expect(networksOf("saas-api")).toEqual([
      { id: "platform-edge-id" },
      { id: "platform-data-id" },
      { id: "platform-control-id" },
    ]);
    // Traefik reads Swarm every 5 s (its default 15 s would leave a restarted tenant unrouted longer).
    const traefik = recorder
      .ofType("docker:index/service:Service")
      .find((s) => s.inputs.name === "saas-traefik")!.inputs;
    expect((traefik.taskSpec.value ?? traefik.taskSpec).containerSpec.args).toEqual(
      expect.arrayContaining(["--providers.swarm=true", "--providers.swarm.refreshSeconds=5s"]),
    );
    const kaui = recorder
      .ofType("docker:index/service:Service")
      .find((s) => s.inputs.name === "saas-kaui")!;
    const labels = labelMap(kaui.inputs.labels);
    expect(labels["traefik.swarm.network"]).toBe("saas-edge");
    expect(labels["traefik.http.routers.saas-kaui.rule"]).toBe("Host(`kaui.odoo.example.com`)");
    const api = recorder
      .ofType("docker:index/service:Service")
      .find((s) => s.inputs.name === "saas-api")!;
    // Nothing of the API on the public edge by default (not even Traefik's default rule).
    expect(labelMap(api.inputs.labels)["traefik.enable"]).toBe("false");
    expect(api.inputs.endpointSpec?.ports).toBeUndefined();
    const apiEnv = (api.inputs.taskSpec.value ?? api.inputs.taskSpec).containerSpec.env;
    expect(apiEnv).toMatchObject({
      ADMIN_TOKEN_FILE: "/run/secrets/ADMIN_TOKEN",
      DATABASE_URL_FILE: "/run/secrets/DATABASE_URL",
      KILLBILL_URL: "http://saas-killbill:8080",
      KILLBILL_CALLBACK_BASE: "http://saas-api:3000",
      EDGE_PROBE: "https://saas-traefik:443",
      PORT: "3000",
      REDIS_URL: "redis://saas-redis:6379",
    });
    // The API's own database on the shared server, created by the platform.
    const apiDatabase = recorder.resources.find((r) => r.name === "platform-api-database")!;
    expect(apiDatabase.inputs).toMatchObject({ role: "odoo_saas_api", database: "odoo_saas_api" });
    // Every password is a Docker secret file: the shared server's, Kill Bill's database's (read by
    // the database and by Kill Bill), the API's (its database URL, the platform's admin password,
    // the token). Only Kaui, which reads no *_FILE, gets its password as a variable.
    const secretNames = recorder
      .ofType("docker:index/secret:Secret")
      .map((s) => s.name)
      .sort();
    expect(secretNames).toEqual([
      "platform-api-admin_token",
      "platform-api-database_url",
      "platform-api-odoo_saas_platform_postgres_admin_password",
      "platform-killbill-killbill_db_password",
      "platform-killbill-postgres-postgres_password",
      "platform-postgres-postgres_password",
    ]);
    const killbill = recorder
      .ofType("docker:index/service:Service")
      .find((s) => s.inputs.name === "saas-killbill")!.inputs.taskSpec;
    expect((killbill.value ?? killbill).containerSpec.env).toEqual({
      KILLBILL_DB_HOST: "saas-killbill-postgres",
      KILLBILL_DB_USER: "killbill",
      KILLBILL_DB_NAME: "killbill",
      KILLBILL_DB_PASSWORD_FILE: "/run/secrets/KILLBILL_DB_PASSWORD",
      KILLBILL_TEST_MODE: "false",
      KILLBILL_JAVA_OPTS: "-Xmx1536m",
    });
    // Kill Bill and its database are healthy only once they answer.
    expect((killbill.value ?? killbill).containerSpec.healthcheck.tests).toEqual([
      "CMD-SHELL",
      KILLBILL_ALIVE,
    ]);
    const kbDatabase = recorder
      .ofType("docker:index/service:Service")
      .find((s) => s.inputs.name === "saas-killbill-postgres")!.inputs.taskSpec;
    expect((kbDatabase.value ?? kbDatabase).containerSpec.env).toEqual({
      POSTGRES_USER: "killbill",
      POSTGRES_DB: "postgres",
      POSTGRES_PASSWORD_FILE: "/run/secrets/POSTGRES_PASSWORD",
    });
    // Traefik reads the Swarm API (managers only); stateful services stay with their volumes.
    const placement = Object.fromEntries(
      recorder
        .ofType("docker:index/service:Service")
        .map((x) => [x.inputs.name, (x.inputs.taskSpec.value ?? x.inputs.taskSpec).placement]),
    );
    expect(placement).toEqual({
      "saas-traefik": { constraints: ["node.role == manager", "node.hostname == node-a"] },
      "saas-postgres": { constraints: ["node.hostname == node-a"] },
      "saas-redis": { constraints: ["node.hostname == node-a"] },
      "saas-killbill-postgres": { constraints: ["node.hostname == node-a"] },
      "saas-api": { constraints: ["node.hostname == node-a"] },
      "saas-killbill": undefined,
      "saas-kaui": undefined,
    });
    expect(await valueOf(outputs.tenantSettings)).toMatchObject({
      swarmVolumeConstraint: "node.hostname == node-a",
    });
    expect(await valueOf(outputs.urls)).toEqual({
      api: "http://127.0.0.1:3000",
      kaui: "https://kaui.odoo.example.com",
    });
  });

  it("points the ACME resolver at the configured CA: its directory, challenge, trusted root (a Docker secret on Swarm), profile", async () => {
    configure(
      {
        baseDomain: "odoo.example.com",
        runtime: "swarm",
        swarmVolumeNode: "node-a",
        traefik: {
          acmeEmail: "ops@example.com",
          acme: {
            caServer: "https://acme.internal:14000/dir",
            challenge: "http-01",
            caCertificates: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            profile: "shortlived",
            certificatesDurationHours: 168,
          },
        },
      },
      { postgresAdminPassword: "pg-admin" },
    );
    await run();
    const traefik = recorder
      .ofType("docker:index/service:Service")
      .find((x) => x.inputs.name === "saas-traefik")!.inputs;
    const spec = traefik.taskSpec.value ?? traefik.taskSpec;
    const r = "--certificatesresolvers.letsencrypt.acme";
    expect(spec.containerSpec.args).toEqual(
      expect.arrayContaining([
        `${r}.caserver=https://acme.internal:14000/dir`,
        `${r}.httpchallenge.entrypoint=web`,
        `${r}.caCertificates=/run/secrets/ACME_CA_CERTIFICATES`,
        `${r}.profile=shortlived`,
        `${r}.certificatesDuration=168`,
      ]),
    );
    expect(spec.containerSpec.args).not.toContain(`${r}.tlschallenge=true`);
    expect(recorder.ofType("docker:index/secret:Secret").map((x) => x.name)).toContain(
      "platform-traefik-acme_ca_certificates-file",
    );
  });

  it("routes publicly only what api.expose names: /admin/, and /webhooks/ rate-limited per source", async () => {
    configure(
      {
        baseDomain: "odoo.example.com",
        api: {
          enabled: true,
          expose: { admin: true, webhooks: true },
          webhookRateLimit: { average: 5, burst: 10 },
        },
        monitoring: { enabled: false },
      },
      { postgresAdminPassword: "pg-admin", apiDatabasePassword: "api-db", apiAdminToken: "t" },
    );
    await run();
    const api = recorder
      .ofType("docker:index/container:Container")
      .find((c) => c.inputs.name === "saas-api")!.inputs;
    const labels = labelMap(api.labels);
    const routers = Object.fromEntries(
      Object.entries(labels).filter(([k]) => k.startsWith("traefik.http.routers.")),
    );
    expect(routers).toMatchObject({
      "traefik.http.routers.saas-api-admin.rule":
        "Host(`api.odoo.example.com`) && PathPrefix(`/admin/`)",
      "traefik.http.routers.saas-api-admin.middlewares": "saas-api-headers",
      "traefik.http.routers.saas-api-webhooks.rule":
        "Host(`api.odoo.example.com`) && PathPrefix(`/webhooks/`)",
      "traefik.http.routers.saas-api-webhooks.middlewares":
        "saas-api-headers,saas-api-webhooks-ratelimit",
    });
    expect(Object.keys(routers).filter((k) => k.endsWith(".rule"))).toHaveLength(2);
    expect(labels).toMatchObject({
      "traefik.http.middlewares.saas-api-webhooks-ratelimit.ratelimit.average": "5",
      "traefik.http.middlewares.saas-api-webhooks-ratelimit.ratelimit.burst": "10",
      "traefik.http.middlewares.saas-api-headers.headers.stsSeconds": "31536000",
    });
    // The operator's way in: the host's loopback only.
    expect(api.ports).toEqual([{ internal: 3000, external: 3000, ip: "127.0.0.1" }]);
  });

  // The API's spec read by the API's own configuration schema, the way its container sees it (the
  // deployed platform suite, test/e2e/deployed-platform.ts, then runs it for real).
  describe.each(["container", "swarm"] as const)("the API's %s spec starts the API", (runtime) => {
    const secrets = {
      apiDatabaseUrl: "postgres://api:pw@saas-postgres:5432/odoo_saas",
      apiAdminToken: "admin-token-0123456789",
      apiWebhookSecret: "webhook-secret-0123456789",
      apiKillbillApiSecret: "kb-api-secret",
      apiKillbillPassword: "kb-password",
      apiPulumiPassphrase: "state-passphrase-0123",
      apiSmtpUrl: "smtp://mail.internal:25",
      apiBackupPassword: "backup-password-0123456789",
      apiMonitoringToken: "monitoring-token-0123456789",
    };
    it("every required setting, listening on all interfaces, secrets read from files on Swarm", async () => {
      configure(
        {
          baseDomain: "odoo.example.com",
          runtime,
          killbill: { enabled: true },
          api: { enabled: true },
          monitoring: { operatorEmail: "ops@example.com" },
        },
        { postgresAdminPassword: "pg-admin", killbillDatabasePassword: "kb-db", ...secrets },
      );
      const { outputs } = await run();
      const env: Record<string, string> = {};
      let mounts: { source: string; target: string }[];
      if (runtime === "container") {
        const c = recorder
          .ofType("docker:index/container:Container")
          .find((x) => x.inputs.name === "saas-api")!.inputs;
        const list = (c.envs.value ?? c.envs) as string[];
        for (const kv of list) env[kv.slice(0, kv.indexOf("="))] = kv.slice(kv.indexOf("=") + 1);
        mounts = c.volumes.map(
          (v: { hostPath?: string; volumeName?: string; containerPath: string }) => ({
            source: v.hostPath ?? v.volumeName!,
            target: v.containerPath,
          }),
        );
      } else {
        const svc = recorder
          .ofType("docker:index/service:Service")
          .find((x) => x.inputs.name === "saas-api")!.inputs.taskSpec;
        const spec = (svc.value ?? svc).containerSpec;
        // Swarm puts each secret in a file: write them where the *_FILE variables point.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-secrets-"));
        const byName = Object.fromEntries(
          recorder.ofType("docker:index/secret:Secret").map((x) => [x.name, x.inputs.data]),
        );
        for (const [k, v] of Object.entries(spec.env as Record<string, string>)) {
          if (!k.endsWith("_FILE")) env[k] = v;
          else {
            const key = k.replace(/_FILE$/, "");
            const data = byName[`platform-api-${key.toLowerCase()}`];
            const file = path.join(dir, key);
            fs.writeFileSync(file, Buffer.from(data.value ?? data, "base64").toString() + "\n");
            env[k] = file;
          }
        }
        mounts = spec.mounts;
      }
      const config = loadConfig(env);
      expect(config).toMatchObject({
        HOST: "0.0.0.0",
        PORT: 3000,
        REDIS_URL: "redis://saas-redis:6379",
        KILLBILL_URL: "http://saas-killbill:8080",
        KILLBILL_CALLBACK_BASE: "http://saas-api:3000",
        EDGE_PROBE: "https://saas-traefik:443",
        KILLBILL_API_KEY: "odoo-saas",
        KILLBILL_PASSWORD: "kb-password",
        ADMIN_TOKEN: "admin-token-0123456789",
        MONITORING_TOKEN: secrets.apiMonitoringToken,
        DATABASE_URL: secrets.apiDatabaseUrl,
        BACKUP_PASSWORD: secrets.apiBackupPassword,
        BACKUP_REPOSITORY: "/var/lib/odoo-saas/backups",
      });
      expect(config.automation).toMatchObject({
        dataDir: "/var/lib/odoo-saas/work",
        backendUrl: "file:///var/lib/odoo-saas/work/state",
        passphrase: secrets.apiPulumiPassphrase,
        // The control plane in the container reaches PostgreSQL on the data network by name.
        postgresAdmin: { host: "saas-postgres", port: 5432 },
        // The platform hands it what tenant programs read of it: no access to this stack's state.
        platform: {
          tenantSettings: await valueOf(outputs.tenantSettings),
          postgresAdminPassword: "pg-admin",
        },
      });
      // Its state, the engine it drives, and the host's backup repository at the same path.
      expect(mounts.map((m) => `${m.source} -> ${m.target}`).sort()).toEqual([
        "/var/lib/odoo-saas/backups -> /var/lib/odoo-saas/backups",
        "/var/run/docker.sock -> /var/run/docker.sock",
        "saas-api-work -> /var/lib/odoo-saas/work",
      ]);
    });
  });

  it("an external PostgreSQL replaces the container and is what tenants use", async () => {
    configure(
      {
        baseDomain: "odoo.example.com",
        postgres: {
          mode: "external",
          host: "db.internal",
          adminUser: "admin",
          maxConnections: 400,
        },
      },
      { postgresAdminPassword: "pg-admin" },
    );
    const { settings } = await run();
    expect(names().filter((n) => n.includes("postgres"))).toEqual([]);
    expect(settings.postgres).toEqual({
      adminHost: "db.internal",
      adminPort: 5432,
      adminUser: "admin",
      sslMode: "require",
      tenantHost: "db.internal",
      tenantPort: 5432,
      maxConnections: 400, // what the API admits tenants up to
    });
    expect(settings.certResolver).toBeUndefined(); // no ACME e-mail, no resolver
  });

  it("a postgres block without a mode is the container", async () => {
    configure(
      { baseDomain: "example.com", postgres: { maxConnections: 300 } },
      { postgresAdminPassword: "pg-admin" },
    );
    const { settings } = await run();
    expect(settings.postgres).toMatchObject({ maxConnections: 300 });
    const pg = recorder
      .ofType("docker:index/container:Container")
      .find((c) => c.inputs.name === "saas-postgres")!;
    expect(pg.inputs.command).toEqual(["postgres", "-c", "max_connections=300"]);
  });

  it.each(["container", "swarm"])(
    "poolers on the %s runtime, one per transaction pool size: tenants told where, the server sized by pooled reservations",
    async (runtime) => {
      configure(
        {
          baseDomain: "example.com",
          runtime,
          ...(runtime === "swarm" ? { swarmVolumeNode: "node-1" } : {}),
          postgres: { pooler: { enabled: true } },
        },
        { postgresAdminPassword: "pg-admin" },
      );
      const { settings } = await run();
      expect(settings.postgres).toMatchObject({
        tenantHost: "saas-postgres", // backups and moves: the server itself
        maxConnections: 20 + 10 * (4 + 2 + 1 + 3), // standard: 7 processes + its pool of 3
        pooler: { hostPrefix: "saas-postgres-pooler", port: 6432, minTransactionPoolSize: 2 },
      });
      const poolers = recorder.resources.filter(
        (r) =>
          /^docker:index\/(container:Container|service:Service)$/.test(r.type) &&
          String(r.inputs.name).startsWith("saas-postgres-pooler"),
      );
      // Trial and basic (one cron worker) pool 2 connections, standard (two) 3.
      expect(poolers.map((p) => p.inputs.name).sort()).toEqual([
        "saas-postgres-pooler-2",
        "saas-postgres-pooler-3",
      ]);
      const envOf = (pooler: (typeof poolers)[number]) =>
        runtime === "swarm"
          ? (pooler.inputs.taskSpec.containerSpec.env as Record<string, string>)
          : Object.fromEntries(
              (pooler.inputs.envs.value as string[]).map((e) => e.split(/=(.*)/s).slice(0, 2)),
            );
      const pooler = poolers.find((p) => p.inputs.name === "saas-postgres-pooler-3")!;
      const env = envOf(pooler);
      expect(env).toMatchObject({
        POOLER_SERVER_HOST: "saas-postgres",
        POOLER_AUTH_USER: "saas_admin",
        POOLER_TRANSACTION_POOL_SIZE: "3",
        POOLER_SESSION_POOL_SIZE: "7",
      });
      // The admin password reaches it as a Swarm secret file, never in the service spec.
      if (runtime === "swarm") {
        expect(env).toMatchObject({
          POOLER_AUTH_PASSWORD_FILE: "/run/secrets/POOLER_AUTH_PASSWORD",
        });
        expect(JSON.stringify(pooler.inputs)).not.toContain("pg-admin");
      } else expect(env).toMatchObject({ POOLER_AUTH_PASSWORD: "pg-admin" }); // a secret input
    },
  );

  it("a registry for a cluster: off by default; on Swarm a service on the volume node, published host-mode", async () => {
    configure({ baseDomain: "example.com" }, { postgresAdminPassword: "pg-admin" });
    await run();
    expect(names().filter((n) => n.includes("registry"))).toEqual([]);

    recorder.resources.splice(0);
    configure(
      {
        baseDomain: "example.com",
        runtime: "swarm",
        swarmVolumeNode: "node-1",
        registry: { enabled: true },
      },
      { postgresAdminPassword: "pg-admin" },
    );
    await run();
    expect(names().filter((n) => n.includes("registry"))).toEqual([
      "docker:index/service:Service saas-registry",
      "docker:index/volume:Volume saas-registry-data",
    ]);
    const registry = recorder
      .ofType("docker:index/service:Service")
      .find((r) => r.inputs.name === "saas-registry")!.inputs;
    expect(registry.endpointSpec.ports).toEqual([
      { targetPort: 5000, publishedPort: 5000, publishMode: "host" },
    ]);
    expect(registry.taskSpec.placement.constraints).toEqual(["node.hostname == node-1"]);
    expect(registry.taskSpec.containerSpec.mounts).toEqual([
      expect.objectContaining({ source: "saas-registry-data", target: "/var/lib/docker-registry" }),
    ]);
  });

  describe.each(["container", "swarm"] as const)("monitoring on the %s runtime", (runtime) => {
    const secrets = {
      postgresAdminPassword: "pg-admin",
      apiDatabasePassword: "api-db",
      apiAdminToken: "admin-token-0123456789",
      apiMonitoringToken: "monitoring-token-0123456789",
      apiSmtpUrl: "smtp://alerts:smtp%2Fpassword@mail.internal:587",
    };
    const base = {
      baseDomain: "odoo.example.com",
      runtime,
      swarmEndpointMode: "dnsrr",
      api: { enabled: true },
      monitoring: { operatorEmail: "ops@example.com" },
    };
    const workloads = () =>
      runtime === "container"
        ? recorder.ofType("docker:index/container:Container").map((c) => ({
            name: c.inputs.name as string,
            command: c.inputs.command as string[],
            networks: (c.inputs.networksAdvanced as { name: string }[]).map((n) => n.name),
            published: !!c.inputs.ports?.length,
            spec: "",
            env: Object.fromEntries(
              ((c.inputs.envs?.value ?? c.inputs.envs ?? []) as string[]).map(
                (e) => e.split(/=(.*)/s).slice(0, 2) as [string, string],
              ),
            ),
            files: Object.fromEntries(
              (
                (c.inputs.uploads?.value ?? c.inputs.uploads ?? []) as {
                  file: string;
                  content: unknown;
                }[]
              ).map((u) => [u.file, String((u.content as { value?: string }).value ?? u.content)]),
            ),
          }))
        : recorder.ofType("docker:index/service:Service").map((x) => {
            const spec = x.inputs.taskSpec.value ?? x.inputs.taskSpec;
            const secretData = Object.fromEntries(
              recorder
                .ofType("docker:index/secret:Secret")
                .map((s) => [s.name, s.inputs.data.value ?? s.inputs.data]),
            );
            return {
              name: x.inputs.name as string,
              command: spec.containerSpec.args as string[],
              networks: (spec.networksAdvanceds as { id: string }[]).map((n) =>
                n.id.replace(/^platform-(\w+)-id$/, "saas-$1"),
              ),
              published: !!x.inputs.endpointSpec?.ports?.length,
              spec: JSON.stringify(x.inputs),
              env: (spec.containerSpec.env ?? {}) as Record<string, string>,
              files: Object.fromEntries(
                ((spec.containerSpec.secrets ?? []) as { fileName: string }[]).map((f) => {
                  const key = f.fileName.replace("/run/secrets/", "").toLowerCase();
                  const resource = Object.keys(secretData).find((n) => n.endsWith(`-${key}-file`));
                  const data = resource ? secretData[resource] : undefined;
                  return [f.fileName, data ? Buffer.from(data, "base64").toString() : ""];
                }),
              ),
            };
          });
    const workload = (name: string) => workloads().find((w) => w.name === name)!;
    const fileNamed = (w: ReturnType<typeof workload>, flag: string) =>
      w.files[w.command.find((a) => a.startsWith(`--${flag}=`))!.split("=")[1]];

    it("Prometheus, Alertmanager and the exporters on the control network only, published nowhere", async () => {
      configure(base, secrets);
      await run();
      const parts = [
        "prometheus",
        "alertmanager",
        "blackbox",
        "postgres-exporter",
        "node-exporter",
      ];
      for (const part of parts) {
        const w = workload(`saas-${part}`);
        expect([part, w.published]).toEqual([part, false]);
        expect([part, w.networks]).toEqual([
          part,
          part === "postgres-exporter" ? ["saas-control", "saas-data"] : ["saas-control"],
        ]);
      }
      // Traefik joins the control network for the probes and its metrics; routes stay on the edge.
      const traefik = workload("saas-traefik");
      expect(traefik.networks).toEqual(["saas-edge", "saas-control"]);
      expect(traefik.command).toEqual(
        expect.arrayContaining([
          "--entrypoints.metrics.address=:8082",
          "--metrics.prometheus.addservicesLabels=false",
          `--providers.${runtime === "swarm" ? "swarm" : "docker"}.network=saas-edge`,
        ]),
      );
    });

    it("Prometheus reads the rules, the token and every part by name; Alertmanager mails the operator", async () => {
      configure(base, secrets);
      await run();
      const prometheus = workload("saas-prometheus");
      const config = JSON.parse(fileNamed(prometheus, "config.file"));
      expect(config.global).toEqual({
        scrape_interval: "15s",
        scrape_timeout: "10s",
        evaluation_interval: "15s",
      });
      expect(JSON.parse(prometheus.files[config.rule_files[0]]).groups[0].rules.length).toBe(
        ALERT_RULES.length,
      );
      expect(prometheus.command).toContain("--rules.alert.resend-delay=15s");
      const job = (name: string) =>
        config.scrape_configs.find((c: { job_name: string }) => c.job_name === name);
      const tenants = job("odoo-saas-tenants");
      const token = tenants.http_sd_configs[0].authorization.credentials_file;
      expect(prometheus.files[token]).toBe(secrets.apiMonitoringToken);
      expect(tenants.http_sd_configs[0].url).toBe("http://saas-api:3000/monitoring/tenant-targets");
      expect(tenants.relabel_configs).toContainEqual(
        expect.objectContaining({ replacement: "https://saas-traefik:443$1" }),
      );
      expect(job("odoo-saas-api")).toMatchObject(
        runtime === "swarm"
          ? { dns_sd_configs: [{ names: ["tasks.saas-api"], type: "A", port: 3000 }] }
          : { static_configs: [{ targets: ["saas-api:3000"] }] },
      );
      expect(job("postgres").static_configs[0].targets).toEqual(["saas-postgres-exporter:9187"]);
      expect(job("traefik").static_configs[0].targets).toEqual(["saas-traefik:8082"]);
      const alertmanager = workload("saas-alertmanager");
      const am = JSON.parse(fileNamed(alertmanager, "config.file"));
      expect(am.global).toMatchObject({
        smtp_smarthost: "mail.internal:587",
        smtp_auth_username: "alerts",
      });
      const receiver = (name: string) =>
        am.receivers.find((r: { name: string }) => r.name === name);
      expect(receiver("operator").email_configs[0].to).toBe("ops@example.com");
      // The Watchdog goes to the API's heartbeat with the monitoring token, never mailed.
      expect(am.route.routes).toEqual([
        expect.objectContaining({ matchers: ['alertname="Watchdog"'], receiver: "heartbeat" }),
      ]);
      const hook = receiver("heartbeat").webhook_configs[0];
      expect(hook.url).toBe("http://saas-api:3000/monitoring/heartbeat");
      expect(alertmanager.files[hook.http_config.authorization.credentials_file]).toBe(
        secrets.apiMonitoringToken,
      );
      // The password is a file of its own, never in the configuration.
      expect(JSON.stringify(am)).not.toContain("smtp/password");
      expect(alertmanager.files[am.global.smtp_auth_password_file]).toBe("smtp/password");
      // The API watches the heartbeat for as long as production allows it to be silent.
      expect(workload("saas-api").env).toMatchObject({
        OPERATOR_EMAIL: "ops@example.com",
        MONITORING_SILENCE_SECONDS: "180",
        MONITORING_WATCH_CRON: "*/30 * * * * *",
      });
      // The postgres exporter logs in as a pg_monitor role of its own, never as the administrator.
      expect(workload("saas-postgres-exporter").env.DATA_SOURCE_USER).toBe("metrics_exporter");
      const role = recorder.resources.find((r) => r.name === "platform-postgres-monitor-role")!;
      expect(role.inputs.role).toBe("metrics_exporter");
      expect(role.inputs.password.value ?? role.inputs.password).toBe(
        "platform-postgres-monitor-password-generated",
      );
      if (runtime === "swarm")
        for (const w of workloads())
          for (const secret of ["smtp%2Fpassword", "smtp/password", secrets.apiMonitoringToken])
            expect([w.name, w.spec.includes(secret)]).toEqual([w.name, false]);
    });

    it.each<[string, Record<string, unknown>, Record<string, string>, RegExp]>([
      ["no monitoring token", {}, { apiMonitoringToken: "" }, /apiMonitoringToken/],
      ["no SMTP server", {}, { apiSmtpUrl: "" }, /apiSmtpUrl/],
      ["no operator address", { monitoring: {} }, {}, /monitoring\.operatorEmail/],
      [
        "no API to list tenants",
        { api: { enabled: false }, monitoring: { enabled: true, operatorEmail: "o@x.io" } },
        {},
        /needs api\.enabled/,
      ],
    ])("refuses %s, naming the setting", (_, values, secretValues, message) => {
      const all: Record<string, string> = { ...secrets, ...secretValues };
      for (const k of Object.keys(all)) if (!all[k]) delete all[k];
      configure({ ...base, ...values }, all);
      expect(() => platformProgram()).toThrow(message);
    });
  });

  it("rejects bad config listing every problem with its key", () => {
    configure(
      { baseDomain: "not a domain", runtime: "kubernetes", traefik: { dashbord: true } },
      { postgresAdminPassword: "x" },
    );
    expect(() => platformProgram()).toThrow(
      /baseDomain: a DNS domain[\s\S]*runtime: [\s\S]*traefik: Unrecognized key: "dashbord"/,
    );
  });
});
