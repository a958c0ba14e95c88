import { execFileSync } from "node:child_process";
import { loadCatalog } from "../../catalog";
import {
  cephfsAdminPath,
  cephfsTenantPath,
  cephfsVolumeOptions,
  filestoreBackendSchema,
  type CephfsBackend,
} from "./filestore";
import { NamingError, tenantNames } from "./names";
import { dockerCpus, goDuration, shortDuration, swarmSecretName } from "../workload";
import { postgresDataPath } from "../postgres-data-path";
import { odooCommand } from "./odoo-options";
import { odooConfigFile, odooMasterPasswordHash } from "./odoo-config";
import { realtimeRoute, type OdooVersion } from "./odoo-versions";
import { traefikLabels } from "./traefik-labels";
import { resourcesOnNode } from "./volume-node";

describe("tenantNames", () => {
  it.each([
    ["acme", "acme-erp", "odoo_acme_acme_erp"],
    ["ACME Corp", "x1", "odoo_acme_corp_x1"],
    ["cust_42", "shop-eu-1", "odoo_cust_42_shop_eu_1"],
  ])("customer %s, tenant %s -> database %s", (customer, tenant, database) => {
    const n = tenantNames(customer, tenant);
    expect(n.database).toBe(database);
    expect(n.role).toBe(database);
    expect(n.runtime).toBe(`odoo-${tenant}`);
    expect(n.volume).toBe(`odoo-${tenant}-filestore`);
  });

  it.each([
    // Names that fit are never touched (existing tenants keep theirs).
    ["c".repeat(28), "t".repeat(28), `odoo_${"c".repeat(28)}_${"t".repeat(28)}`],
    // Longer: the customer part is cut, the tenant part (unique on its own) never.
    ["c".repeat(30), "t".repeat(30), `odoo_${"c".repeat(27)}_${"t".repeat(30)}`],
    // A Kill Bill account id as customer id, the longest tenant id.
    [
      "0f8fad5b-d9cb-469f-a165-70867728950e",
      "t".repeat(40),
      `odoo_0f8fad5b_d9cb_469_${"t".repeat(40)}`,
    ],
  ])("fits PostgreSQL's 63 bytes: %s / %s", (customer, tenant, database) => {
    expect(tenantNames(customer, tenant).database).toBe(database);
    expect(Buffer.byteLength(tenantNames(customer, tenant).database)).toBeLessThanOrEqual(63);
  });

  it("needs letters or digits in both ids", () => {
    expect(() => tenantNames("--", "acme")).toThrow(NamingError);
  });
});

describe("realtimeRoute", () => {
  it.each<[OdooVersion, string]>([
    ["14", "PathPrefix(`/longpolling/`)"],
    ["15", "PathPrefix(`/longpolling/`)"],
    ["16", "Path(`/websocket`)"],
    ["17", "Path(`/websocket`)"],
    ["18", "Path(`/websocket`)"],
  ])("Odoo %s -> %s", (version, rule) => expect(realtimeRoute(version).rule).toBe(rule));
});

describe("traefikLabels", () => {
  const base = {
    router: "odoo-acme",
    hosts: ["acme.example.com"],
    odooVersion: "17" as OdooVersion,
    entryPoint: "websecure",
    certResolver: "letsencrypt",
    network: "edge",
    runtime: "container" as const,
    edge: { hstsSeconds: 3600, maxRequestBodyBytes: 1000 },
  };

  it("routes the host to 8069, writes through the body limit, the websocket to 8072, each with the edge's headers", () => {
    const router = (name: string, rule: string, service: string, priority: number, mw: string) => ({
      [`traefik.http.routers.${name}.rule`]: rule,
      [`traefik.http.routers.${name}.entrypoints`]: "websecure",
      [`traefik.http.routers.${name}.service`]: service,
      [`traefik.http.routers.${name}.priority`]: String(priority),
      [`traefik.http.routers.${name}.middlewares`]: mw,
      [`traefik.http.routers.${name}.tls`]: "true",
      [`traefik.http.routers.${name}.tls.certresolver`]: "letsencrypt",
    });
    const host = "Host(`acme.example.com`)";
    expect(traefikLabels(base)).toEqual({
      "traefik.enable": "true",
      "traefik.docker.network": "edge",
      "traefik.http.middlewares.odoo-acme-headers.headers.customrequestheaders.X-Forwarded-Proto":
        "https",
      "traefik.http.middlewares.odoo-acme-headers.headers.contentTypeNosniff": "true",
      "traefik.http.middlewares.odoo-acme-headers.headers.referrerPolicy":
        "strict-origin-when-cross-origin",
      "traefik.http.middlewares.odoo-acme-headers.headers.customresponseheaders.Server": "",
      "traefik.http.middlewares.odoo-acme-hsts.headers.stsSeconds": "3600",
      "traefik.http.middlewares.odoo-acme-body.buffering.maxRequestBodyBytes": "1000",
      "traefik.http.services.odoo-acme-http.loadbalancer.server.port": "8069",
      "traefik.http.services.odoo-acme-realtime.loadbalancer.server.port": "8072",
      ...router("odoo-acme-http", host, "odoo-acme-http", 1, "odoo-acme-headers,odoo-acme-hsts"),
      ...router(
        "odoo-acme-upload",
        `${host} && (Method(\`POST\`) || Method(\`PUT\`) || Method(\`PATCH\`))`,
        "odoo-acme-http",
        10,
        "odoo-acme-headers,odoo-acme-hsts,odoo-acme-body",
      ),
      ...router(
        "odoo-acme-realtime",
        `${host} && Path(\`/websocket\`)`,
        "odoo-acme-realtime",
        20,
        "odoo-acme-headers,odoo-acme-hsts",
      ),
    });
  });

  it("sets no HSTS when it is 0", () => {
    const labels = traefikLabels({ ...base, edge: { ...base.edge, hstsSeconds: 0 } });
    expect(Object.keys(labels).some((k) => k.includes("hsts"))).toBe(false);
    expect(labels["traefik.http.routers.odoo-acme-http.middlewares"]).toBe("odoo-acme-headers");
  });

  it.each([
    ["15", "container", "traefik.docker.network", "PathPrefix(`/longpolling/`)"],
    ["16", "swarm", "traefik.swarm.network", "Path(`/websocket`)"],
  ] as const)("Odoo %s on %s uses %s and %s", (odooVersion, runtime, networkLabel, realtime) => {
    const labels = traefikLabels({ ...base, odooVersion, runtime });
    expect(labels[networkLabel]).toBe("edge");
    expect(labels["traefik.http.routers.odoo-acme-realtime.rule"]).toBe(
      `Host(\`acme.example.com\`) && ${realtime}`,
    );
  });

  it("gives each custom domain routers of its own (one certificate each), and omits an unset resolver", () => {
    const labels = traefikLabels({
      ...base,
      hosts: ["acme.example.com", "erp.acme.org"],
      certResolver: undefined,
    });
    const rules = Object.fromEntries(Object.entries(labels).filter(([k]) => k.endsWith(".rule")));
    const writes = "(Method(`POST`) || Method(`PUT`) || Method(`PATCH`))";
    expect(rules).toEqual({
      "traefik.http.routers.odoo-acme-http.rule": "Host(`acme.example.com`)",
      "traefik.http.routers.odoo-acme-upload.rule": `Host(\`acme.example.com\`) && ${writes}`,
      "traefik.http.routers.odoo-acme-realtime.rule":
        "Host(`acme.example.com`) && Path(`/websocket`)",
      "traefik.http.routers.odoo-acme-a01d0d76-http.rule": "Host(`erp.acme.org`)",
      "traefik.http.routers.odoo-acme-a01d0d76-upload.rule": `Host(\`erp.acme.org\`) && ${writes}`,
      "traefik.http.routers.odoo-acme-a01d0d76-realtime.rule":
        "Host(`erp.acme.org`) && Path(`/websocket`)",
    });
    expect(labels["traefik.http.routers.odoo-acme-a01d0d76-http.service"]).toBe("odoo-acme-http");
    // A customer's own domain gets the headers and the body limit, never HSTS: that is theirs.
    expect(labels["traefik.http.routers.odoo-acme-a01d0d76-upload.middlewares"]).toBe(
      "odoo-acme-headers,odoo-acme-body",
    );
    expect(Object.keys(labels).some((k) => k.endsWith("certresolver"))).toBe(false);
  });
});

describe("odoo options per plan", () => {
  const catalog = loadCatalog();
  it.each(catalog.plans.map((p) => [p.id, p] as const))("%s", (_id, plan) => {
    const cmd = odooCommand(plan, "odoo_c_t");
    expect(cmd.slice(0, 4)).toEqual([
      "odoo",
      "--database=odoo_c_t",
      "--no-database-list",
      "--proxy-mode",
    ]);
    // --database alone pins it: a db-filter would list the databases on `postgres` per request.
    expect(cmd.some((o) => o.startsWith("--db-filter"))).toBe(false);
    expect(cmd).toContain(`--workers=${plan.odoo.workers}`);
    expect(cmd).toContain(`--max-cron-threads=${plan.odoo.maxCronThreads}`);
    expect(cmd).toContain(`--limit-memory-hard=${plan.odoo.limitMemoryHardMb * 1048576}`);
    expect(cmd).toContain(`--db_maxconn=${plan.odoo.dbMaxConnections}`);
  });
});

describe("swarmSecretName", () => {
  it.each([
    ["odoo-acme-password", /^odoo-acme-password-[0-9a-f]{12}$/],
    // A 40-character tenant id: cut to SwarmKit's 64 characters, the digest kept.
    [`odoo-${"t".repeat(40)}-postgres-postgres_password`, /^odoo-t{40}-postg-[0-9a-f]{12}$/],
  ])("%s", (base, expected) => {
    const name = swarmSecretName(base, "value");
    expect(name).toMatch(expected);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(swarmSecretName(base, "other")).not.toBe(name);
  });
});

describe("container cpus as the docker provider reads them back", () => {
  it.each([
    [1, "1.0"],
    [2, "2.0"],
    [0.5, "0.5"],
    [1.25, "1.25"],
    [10, "10."], // upstream's own rounding of a whole number with a zero digit
  ])("%d -> %s", (cpus, text) => expect(dockerCpus(cpus)).toBe(text));
});

describe("durations as the docker provider reads them back", () => {
  it.each([
    [0, "0s", "0s"],
    [5, "5s", "5s"],
    [30, "30s", "30s"],
    [60, "1m0s", "1m"],
    [90, "1m30s", "1m30s"],
    [120, "2m0s", "2m"],
    [3600, "1h0m0s", "1h"],
    [3725, "1h2m5s", "1h2m5s"],
  ])("%i s: container %s, service %s", (seconds, container, service) => {
    expect(goDuration(seconds)).toBe(container);
    expect(shortDuration(seconds)).toBe(service);
  });
});

describe("filestore volume", () => {
  const cephfs = {
    kind: "cephfs",
    monitors: "10.0.0.1:6789, 10.0.0.2:6789,[fd00::3]:3300",
    root: "/volumes/saas/",
    user: "odoo",
    fsName: "cephfs",
    adminMountPath: "/mnt/cephfs-admin/",
  };

  it("mounts the tenant's own CephFS directory with options the kernel takes", () => {
    const backend = filestoreBackendSchema.parse(cephfs) as CephfsBackend;
    expect(cephfsTenantPath(backend.root, "acme")).toBe("/volumes/saas/odoo_instances/acme");
    expect(cephfsAdminPath(backend, "acme")).toBe(
      "/mnt/cephfs-admin/volumes/saas/odoo_instances/acme",
    );
    expect(backend.owner).toBe("101:101");
    // secret= and mds_namespace= (kernel options), never secretfile= (mount.ceph's, never run).
    expect(cephfsVolumeOptions(backend, "acme", "AQBkey==")).toEqual({
      type: "ceph",
      device: "10.0.0.1:6789,10.0.0.2:6789,[fd00::3]:3300:/volumes/saas/odoo_instances/acme",
      o: "name=odoo,secret=AQBkey==,mds_namespace=cephfs",
    });
  });

  it.each([
    ["a monitor host name", { monitors: "mon1.ceph:6789" }, /must be IP\[:port\]/],
    ["a relative root", { root: "volumes" }, /absolute path inside CephFS/],
    ["no admin mount", { adminMountPath: undefined }, /adminMountPath/],
    ["a user name as owner", { owner: "odoo" }, /uid:gid/],
    ["the helper's secretfile", { secretFile: "/etc/ceph/key" }, /secretFile/],
  ])("refuses %s", (_name, patch, message) => {
    const r = filestoreBackendSchema.safeParse({ ...cephfs, ...patch });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error!.issues)).toMatch(message);
  });
});

describe("postgresDataPath: where the image keeps its data", () => {
  it.each([
    ["postgres:16", "/var/lib/postgresql/data"],
    ["postgres:17.2-bookworm", "/var/lib/postgresql/data"],
    ["postgres:18", "/var/lib/postgresql"],
    ["postgres:18.1-trixie", "/var/lib/postgresql"],
    ["registry.example.com:5000/postgres:18-alpine", "/var/lib/postgresql"],
    ["registry.example.com:5000/postgres", "/var/lib/postgresql/data"],
    ["odoo-saas/postgres:70b8d3040dcb", "/var/lib/postgresql/data"],
    ["postgres@sha256:0123abcd", "/var/lib/postgresql/data"],
  ])("%s -> %s", (image, path) => {
    expect(postgresDataPath(image)).toBe(path);
  });
});

describe("Odoo's master password", () => {
  it("is passlib's pbkdf2_sha512, as Python computes it, stable per tenant", () => {
    const hash = odooMasterPasswordHash("s3cret-master", "acme");
    const [, scheme, rounds, salt, checksum] = hash.split("$");
    expect([scheme, rounds]).toEqual(["pbkdf2-sha512", "25000"]);
    // An independent implementation: Python's hashlib, decoding passlib's adapted base64.
    const python = execFileSync(
      "python3",
      [
        "-c",
        `import base64, hashlib, sys
ab64 = lambda s: base64.b64decode(s.replace(".", "+") + "=" * (-len(s) % 4))
print(base64.b64encode(hashlib.pbkdf2_hmac("sha512", sys.argv[1].encode(), ab64(sys.argv[2]), int(sys.argv[3]), 64)).decode())`,
        "s3cret-master",
        salt,
        rounds,
      ],
      { encoding: "utf8" },
    ).trim();
    expect(checksum).toBe(python.replace(/\+/g, ".").replace(/=+$/, ""));
    expect(odooMasterPasswordHash("s3cret-master", "acme")).toBe(hash);
    expect(odooMasterPasswordHash("s3cret-master", "globex")).not.toBe(hash);
    expect(odooConfigFile(hash)).toBe(
      `[options]\naddons_path = /mnt/extra-addons\ndata_dir = /var/lib/odoo\nadmin_passwd = ${hash}\n`,
    );
  });
});

describe("resourcesOnNode: what a stack forgets of a node lost for good", () => {
  const urn = (type: string, name: string) => `urn:pulumi:t::odoo-saas-tenant::${type}::${name}`;
  const provider = (host: string) => urn("pulumi:providers:docker", `acme-w1-engine-${host}`);
  const resources = [
    { urn: provider("w1"), type: "pulumi:providers:docker" },
    { urn: provider("w2"), type: "pulumi:providers:docker" },
    {
      urn: urn("docker:index/volume:Volume", "acme-w1-filestore-w1"),
      type: "docker:index/volume:Volume",
      provider: `${provider("w1")}::id-1`,
    },
    {
      urn: urn("docker:index/volume:Volume", "acme-w1-filestore-w2"),
      type: "docker:index/volume:Volume",
      provider: `${provider("w2")}::id-2`,
    },
    {
      urn: urn("pulumi-nodejs:dynamic:Resource", "acme-w1-filestore-release-w1"),
      type: "pulumi-nodejs:dynamic:Resource",
    },
    {
      urn: urn("pulumi-nodejs:dynamic:Resource", "acme-w1-init-shared"),
      type: "pulumi-nodejs:dynamic:Resource",
    },
    { urn: urn("odoo-saas:tenant:OdooTenant", "acme-w1"), type: "odoo-saas:tenant:OdooTenant" },
    {
      urn: urn("docker:index/service:Service", "acme-w1-odoo"),
      type: "docker:index/service:Service",
    },
  ];
  it.each([
    ["w1", ["acme-w1-engine-w1", "acme-w1-filestore-w1", "acme-w1-filestore-release-w1"]],
    ["w2", ["acme-w1-engine-w2", "acme-w1-filestore-w2"]],
    ["w3", []],
  ])("node %s", (host, names) =>
    expect([...resourcesOnNode(resources, host)].map((u) => u.split("::").at(-1))).toEqual(names),
  );
});
