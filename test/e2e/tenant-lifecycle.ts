// The tenant lifecycle on the real engine, one story per test, shared by the container-runtime and
// Swarm suites: reachable through Traefik, a second `up` with no changes, suspend keeps the data,
// resume brings it back, a plan change keeps the volume, destroy removes exactly what it created.
import {
  docker,
  request,
  runningContainer,
  sweepTenants,
  startPlatform,
  unavailabilityDuring,
  waitReachable,
  BASE_DOMAIN,
  type E2EPlatform,
} from "./platform";
import type { Runtime } from "../../components/workload";
import { tenantNames } from "../../components/tenant/names";
import { eventually } from "../api-harness";
import { execOutput } from "../helpers/docker-output";

export function tenantLifecycleSuite(runtime: Runtime) {
  const short = runtime === "swarm" ? "sw" : "ct";
  const platformName = runtime === "swarm" ? "e2es" : "e2ec";
  const acme = `${short}-acme`;
  // The other tenant is what tends to break: a 40-character id (names cut to fit PostgreSQL and
  // SwarmKit), Odoo 14 (no /web/health; long polling), and a custom domain with its own routers.
  const globex = `${short}-globex-corporation-international-erp1`;
  const globexDomain = `erp.${short}-globex.example`;
  const dedicated = `${short}-dedicated`;
  const customerOf = (tenantId: string) => `${tenantId.slice(0, 30)}-corp`;
  const spec = (tenantId: string, extra: Record<string, unknown> = {}) => ({
    tenantId,
    customerId: customerOf(tenantId),
    plan: "basic",
    odooVersion: "17",
    adminEmail: `owner@${tenantId}.example`,
    ...extra,
  });
  const host = (tenantId: string) => `${tenantId}.${BASE_DOMAIN}`;
  let p: E2EPlatform;

  const execIn = (containerId: string, cmd: string[]) =>
    execOutput(docker.getContainer(containerId), cmd);
  const running = (name: string) => runningContainer(runtime, name);
  const odooContainer = async (tenantId: string) => (await running(`odoo-${tenantId}`))!;
  /** Every address a workload's container has, on each of its networks. */
  const addressesOf = async (name: string) =>
    Object.values(
      (await docker.getContainer((await running(name))!.Id).inspect()).NetworkSettings.Networks,
    ).map((n) => n.IPAddress);

  const runtimeRunning = async (tenantId: string): Promise<boolean> => {
    if (runtime === "swarm") {
      const [service] = await docker.listServices({
        filters: JSON.stringify({ name: [`odoo-${tenantId}`] }),
      });
      return (service?.Spec?.Mode?.Replicated?.Replicas ?? 0) > 0;
    }
    const [container] = await docker.listContainers({
      filters: JSON.stringify({ name: [`^odoo-${tenantId}$`] }),
    });
    return container?.State === "running";
  };
  const volumeCreatedAt = async (tenantId: string) =>
    (
      (await docker.getVolume(`odoo-${tenantId}-filestore`).inspect()) as unknown as {
        CreatedAt: string;
      }
    ).CreatedAt;
  const attachments = async (tenantId: string) => {
    const reply = await request(p.httpsPort, host(tenantId), "/stand-in/attachments");
    expect(reply.status).toBe(200);
    return JSON.parse(reply.body) as { name: string; on_disk: boolean }[];
  };
  const databaseExists = async (tenantId: string) => {
    const admin = await p.admin();
    try {
      const name = tenantNames(customerOf(tenantId), tenantId).database;
      const rows = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      return rows.rowCount === 1;
    } finally {
      await admin.end();
    }
  };

  beforeAll(async () => {
    p = await startPlatform(runtime, platformName, { tenants: [acme, globex, dedicated] });
    await Promise.all([
      p.tenants.up(spec(acme)),
      p.tenants.up(spec(globex, { odooVersion: "14", customDomains: [globexDomain] })),
    ]);
  }, 600000);

  afterAll(async () => {
    try {
      const left = p ? await p.tenants.list().catch(() => [] as string[]) : [];
      for (const id of left) await p.tenants.destroy(id).catch(() => undefined);
      await p?.teardown();
    } finally {
      await sweepTenants([acme, globex, dedicated]);
    }
  }, 600000);

  /** A platform service's health as Docker reports it (a Swarm service: its task's container). */
  const health = async (name: string) => {
    const [c] = await docker.listContainers({
      all: true,
      filters: JSON.stringify(
        runtime === "swarm"
          ? { label: [`com.docker.swarm.service.name=${name}`] }
          : { name: [`^${name}$`] },
      ),
    });
    return c && (await docker.getContainer(c.Id).inspect()).State.Health?.Status;
  };

  it("the platform's Traefik, PostgreSQL and Redis report healthy", async () => {
    for (const service of ["traefik", "postgres", "redis"])
      await eventually(
        async () => (await health(`${platformName}-${service}`)) === "healthy",
        60000,
        `${platformName}-${service} healthy`,
      );
  });

  it("a new tenant answers through Traefik by Host, its real-time path on the real-time port", async () => {
    await waitReachable(p, host(acme));
    const page = await request(p.httpsPort, host(acme), "/web/login");
    expect(page.status).toBe(200);
    expect(page.headers["x-odoo-stand-in-port"]).toBe("http");
    const realtime = await request(p.httpsPort, host(acme), "/websocket");
    expect(realtime.status).toBe(200);
    expect(realtime.headers["x-odoo-stand-in-port"]).toBe("realtime");
    // Odoo 14 (TCP health check), by its own address and by its custom domain (routers of its own).
    for (const h of [host(globex), globexDomain]) {
      await eventually(
        async () => (await request(p.httpsPort, h, "/web/login")).status === 200,
        90000,
        `${h} routed`,
      );
      const poll = await request(p.httpsPort, h, "/longpolling/poll");
      expect(poll.headers["x-odoo-stand-in-port"]).toBe("realtime");
    }
    // Odoo read the tenant's own configuration file: a master password of its own, as a hash.
    const config = await request(p.httpsPort, host(acme), "/stand-in/config");
    expect(JSON.parse(config.body)).toEqual({
      config_file: runtime === "swarm" ? "/run/secrets/ODOO_RC" : "/run/odoo-saas/odoo_rc",
      admin_passwd: "pbkdf2-sha512",
    });
    // An unknown host is not routed to any tenant.
    expect((await request(p.httpsPort, `unknown.${BASE_DOMAIN}`, "/web/health")).status).toBe(404);
  });

  if (runtime === "swarm")
    it("placement: Traefik on a manager, stateful services on the node of their volumes", async () => {
      const constraints = async (service: string) =>
        (
          (await docker.getService(service).inspect()) as {
            Spec: { TaskTemplate: { Placement?: { Constraints?: string[] } } };
          }
        ).Spec.TaskTemplate.Placement?.Constraints ?? [];
      const nodeId = (await docker.info()).Swarm.NodeID as string;
      expect(await constraints(`${platformName}-traefik`)).toEqual(
        expect.arrayContaining(["node.role == manager", `node.id == ${nodeId}`]),
      );
      for (const service of [`${platformName}-postgres`, `${platformName}-redis`, `odoo-${acme}`])
        expect(await constraints(service)).toEqual([`node.id == ${nodeId}`]);
    });

  it("a second up of an unchanged tenant reports no changes", async () => {
    const preview = await p.tenants.preview(spec(acme));
    expect(preview.changes).toEqual([]);
    const again = await p.tenants.up(spec(acme));
    expect(Object.keys(again.changes)).toEqual(["same"]);
  });

  it("suspend stops the runtime and keeps the database and the filestore", async () => {
    await waitReachable(p, host(acme));
    const created = await request(p.httpsPort, host(acme), "/stand-in/attachments", {
      method: "POST",
      body: { name: "invoice.pdf", datas: Buffer.from("customer data").toString("base64") },
    });
    expect(created.status).toBe(201);
    const volumeBefore = await volumeCreatedAt(acme);

    const preview = await p.tenants.preview(spec(acme, { state: "suspended" }));
    const ops = preview.changes.map((c) => `${c.type} ${c.op}`);
    // Container runtime: the container goes (the provider cannot stop one). Swarm: the service
    // scales to 0 in place (its `mode` is ForceNew, the nested replica count is not).
    expect(ops).toContain(
      runtime === "swarm"
        ? "docker:index/service:Service update"
        : "docker:index/container:Container delete",
    );
    expect(ops.filter((o) => o.endsWith(" replace"))).toEqual([]);
    await p.tenants.up(spec(acme, { state: "suspended" }));
    await eventually(async () => !(await runtimeRunning(acme)), 60000, "runtime stopped");
    await eventually(
      async () => (await request(p.httpsPort, host(acme), "/web/health")).status === 404,
      60000,
      "route gone while suspended",
    );
    expect(await volumeCreatedAt(acme)).toBe(volumeBefore);
    expect(await databaseExists(acme)).toBe(true);
  });

  it("resume brings the same data back", async () => {
    await p.tenants.up(spec(acme));
    await waitReachable(p, host(acme));
    expect(await attachments(acme)).toEqual([
      expect.objectContaining({ name: "invoice.pdf", on_disk: true }),
    ]);
  });

  it("a plan change keeps the volume and the data (no replacement)", async () => {
    const volumeBefore = await volumeCreatedAt(acme);
    const preview = await p.tenants.preview(spec(acme, { plan: "standard" }));
    const ops = Object.fromEntries(preview.changes.map((c) => [c.type, c.op]));
    expect(ops["docker:index/volume:Volume"]).toBeUndefined();
    expect(ops["pulumi-nodejs:dynamic:Resource"]).not.toBe("replace");
    const measured = await unavailabilityDuring(p, host(acme), () =>
      p.tenants.up(spec(acme, { plan: "standard" })),
    );
    const outcome = measured.result;
    // Figures for the README: what a customer sees of a plan change (probes every 100 ms).
    console.log(
      `[plan change ${runtime}] basic -> standard: ${measured.failed}/${measured.requests} requests failed, longest outage ${measured.longestOutageMs} ms`,
    );
    expect(outcome.outputs.plan).toBe("standard");
    // Odoo's workers and limits are command-line options: a container is replaced to change them
    // (its CPU and memory limits alone would be updated in place), and so is its gateway, which
    // forwards to the pooler of the plan's pool size (2 -> 3); a service is updated.
    expect(outcome.changes.replace ?? 0).toBe(runtime === "container" ? 2 : 0);
    expect(await volumeCreatedAt(acme)).toBe(volumeBefore);
    await waitReachable(p, host(acme));
    expect((await attachments(acme)).map((a) => a.name)).toEqual(["invoice.pdf"]);
  });

  it("a dedicated database: Odoo runs as a plain role owning its database", async () => {
    await p.tenants.up(spec(dedicated, { plan: "premium" }));
    await waitReachable(p, host(dedicated));
    const names = tenantNames(customerOf(dedicated), dedicated);
    const server = (await running(names.dedicatedPostgres))!;
    const out = await execIn(server.Id, [
      "psql",
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-tAc",
      `SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, d.datdba::regrole::text
         FROM pg_roles r, pg_database d WHERE r.rolname = '${names.role}' AND d.datname = '${names.database}'`,
    ]);
    expect(out.trim()).toBe(`f|f|f|${names.role}`);
    // Odoo's database was initialised by the role itself (the stand-in refuses uninitialised ones).
    expect((await request(p.httpsPort, host(dedicated), "/web/login")).status).toBe(200);
  });

  it("isolation: from inside one tenant's Odoo, nothing of another tenant or of the control plane is reachable", async () => {
    await waitReachable(p, host(acme));
    await waitReachable(p, host(dedicated));
    const inside = await odooContainer(acme);
    const other = tenantNames(customerOf(globex), globex);
    const dedicatedNames = tenantNames(customerOf(dedicated), dedicated);
    // Every port another tenant's processes listen on, by name and by each of their addresses.
    // Reached means answered by that service (Odoo's HTTP, or PostgreSQL's reply to an SSL
    // request): a connection, or an HTTP reply, proves nothing where the host's own network takes
    // any outbound one (this machine's answers every address with an HTTP 426; on Swarm an address
    // on no local network leaves by the default route).
    const targets: [string, string, number][] = [];
    for (const [what, name, ports] of [
      ["other_odoo", other.runtime, [8069, 8072]],
      ["other_gateway", other.gateway, [8069, 8072, 5432]],
      ["other_postgres", dedicatedNames.dedicatedPostgres, [5432]],
    ] as const)
      for (const address of [name, ...(await addressesOf(name))])
        for (const port of ports) targets.push([what, address, port]);
    const probe = `
import json, os, socket, psycopg2
from concurrent.futures import ThreadPoolExecutor
def tcp(host, port):
    try:
        socket.create_connection((host, port), 2).close(); return "open"
    except OSError as e:
        return type(e).__name__
def answer(host, port):
    try:
        with socket.create_connection((host, port), 2) as s:
            s.settimeout(2)
            if port == 5432:
                s.sendall(bytes([0, 0, 0, 8, 4, 210, 22, 47]))  # SSLRequest
                return "answered" if s.recv(1) in (b"S", b"N") else "no answer"
            s.sendall(b"GET /web/login HTTP/1.0\\r\\nHost: probe\\r\\n\\r\\n")
            head = b""
            while b"\\r\\n\\r\\n" not in head and len(head) < 4096:
                chunk = s.recv(1024)
                if not chunk:
                    break
                head += chunk
            # Odoo itself (the stand-in names itself in its Server header), not any HTTP reply.
            return "answered" if b"odoo" in head.lower() else "no answer"
    except OSError as e:
        return type(e).__name__
def gateway():
    for line in open("/proc/net/route").read().splitlines()[1:]:
        f = line.split()
        if f[1] == "00000000":
            return socket.inet_ntoa(bytes.fromhex(f[2])[::-1])
def connect(dbname):
    try:
        psycopg2.connect(host=os.environ["HOST"], port=os.environ["PORT"], user=os.environ["USER"],
                         password=os.environ.get("PASSWORD") or open(os.environ["PASSWORD_FILE"]).read(),
                         dbname=dbname, connect_timeout=5).close()
        return "connected"
    except psycopg2.OperationalError as e:
        return " ".join(str(e).split())
targets = ${JSON.stringify(targets)}
with ThreadPoolExecutor(len(targets)) as pool:
    reached = list(pool.map(lambda t: answer(t[1], t[2]), targets))
print(json.dumps({
    "own_db": connect(${JSON.stringify(tenantNames(customerOf(acme), acme).database)}),
    "other_db": connect(${JSON.stringify(other.database)}),
    "answered": [t for t, r in zip(targets, reached) if r == "answered"],
    "refusals": sorted(set(reached)),
    "own_gateway": [answer(${JSON.stringify(tenantNames(customerOf(acme), acme).gateway)}, port) for port in (8069, 5432)],
    "redis": tcp(${JSON.stringify(`${platformName}-redis`)}, 6379),
    "docker_socket": os.path.exists("/var/run/docker.sock"),
    "host_postgres": tcp(gateway(), 5432),
    "host_docker_api": tcp(gateway(), 2375),
}))
`;
    const seen = JSON.parse(await execIn(inside.Id, ["python3", "-c", probe]));
    console.log(
      `[isolation ${runtime}] ${targets.length} ports of other tenants probed from inside ${acme}: ${JSON.stringify(seen.refusals)}`,
    );
    expect(seen).toEqual({
      // Its own database, through its gateway to the platform's pooler.
      own_db: "connected",
      // Its own role has no CONNECT on another tenant's database.
      other_db: expect.stringMatching(/permission denied for database/),
      // No port of another tenant's Odoo, gateway or dedicated PostgreSQL answers: their names do
      // not resolve on this tenant's network, and their addresses are on networks it is not on.
      answered: [],
      // The same probe does see what this tenant may reach: its own gateway, both ways.
      own_gateway: ["answered", "answered"],
      refusals: expect.any(Array),
      // Redis is on the control network, which tenants do not join: not even its name resolves.
      redis: expect.stringMatching(/gaierror|ConnectionRefusedError|timeout/),
      docker_socket: false,
      // The host's PostgreSQL (the API's database) and Docker listen on loopback only.
      host_postgres: expect.stringMatching(/ConnectionRefusedError|timeout/),
      host_docker_api: expect.stringMatching(/ConnectionRefusedError|timeout/),
    });
    for (const refusal of seen.refusals)
      expect(refusal).toMatch(
        /^(gaierror|ConnectionRefusedError|TimeoutError|timeout|OSError|no answer|ConnectionResetError)$/,
      );
    // And the other way round: Traefik still reaches each of them (through their gateways).
    expect((await request(p.httpsPort, globexDomain, "/web/login")).status).toBe(200);
    expect((await request(p.httpsPort, host(dedicated), "/web/login")).status).toBe(200);
    // Each tenant mounts its own filestore only.
    const mounts = async (tenantId: string) =>
      ((await docker.getContainer((await odooContainer(tenantId)).Id).inspect()).Mounts ?? [])
        .filter((m: { Type: string }) => m.Type === "volume")
        .map((m: { Name?: string }) => m.Name);
    expect(await mounts(acme)).toEqual([`odoo-${acme}-filestore`]);
    expect(await mounts(globex)).toEqual([`odoo-${globex}-filestore`]);
  });

  it("a dedicated tenant is destroyed even with its runtime already gone", async () => {
    const names = tenantNames(customerOf(dedicated), dedicated);
    // Its Odoo runtime already gone (removed by hand, or by a delete that failed after removing
    // it): the destroy drops it from the state and removes the rest.
    if (runtime === "swarm") await docker.getService(`odoo-${dedicated}`).remove();
    else await docker.getContainer(`odoo-${dedicated}`).remove({ force: true });
    await p.tenants.destroy(dedicated);
    expect(await p.tenants.list()).not.toContain(dedicated);
    const byName = { filters: JSON.stringify({ name: [names.dedicatedPostgres] }) };
    expect(
      runtime === "swarm"
        ? await docker.listServices(byName)
        : await docker.listContainers({ all: true, ...byName }),
    ).toEqual([]);
  });

  it("destroy removes what the tenant created and nothing else", async () => {
    await p.tenants.destroy(acme);
    expect(await p.tenants.list()).toEqual([globex]);
    await expect(docker.getVolume(`odoo-${acme}-filestore`).inspect()).rejects.toThrow(
      /no such volume/i,
    );
    expect(await runtimeRunning(acme)).toBe(false);
    expect(await running(`odoo-${acme}-gateway`)).toBeUndefined();
    expect(
      await docker.listNetworks({ filters: JSON.stringify({ name: [`odoo-${acme}-net`] }) }),
    ).toEqual([]);
    expect(await databaseExists(acme)).toBe(false);
    const admin = await p.admin();
    const roles = await admin.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'odoo_%'");
    await admin.end();
    expect(roles.rows.map((r) => r.rolname)).toEqual([
      tenantNames(customerOf(globex), globex).role,
    ]);
    // The other tenant and the platform are untouched.
    expect(await databaseExists(globex)).toBe(true);
    expect((await request(p.httpsPort, globexDomain, "/web/login")).status).toBe(200);
  });
}
