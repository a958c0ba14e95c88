// bench/tenant-networks: what a network per tenant costs the edge, against today's one shared
// network, at N tenants on the container runtime: the platform's Traefik image with the docker
// provider, and N small HTTP backends (the platform's socat image answering 200; Odoo's own cost
// is not the question) routed by host as tenants are.
//   shared:     every backend on one network with Traefik (tenants can reach each other);
//   per-tenant: each backend alone on its own bridge network, Traefik connected to each one
//               (`docker network connect`, no restart), the route naming that network.
// For each layout: the engine's time per tenant (network, container, connection), the first and
// last tenths' medians to show the trend, the time from a tenant's start to its route answering
// (Traefik's reload) at N, Traefik's memory (anonymous, from its cgroup) at N, and whether backend
// 0 reaches backend 1 (it must not, per tenant). Networks get explicit /24s (from 10.213.0.0) so
// the engine's default address pools (about 30 bridge networks) are not the limit measured.
// Run: npm run bench:tenant-networks [-- --tenants 200]
import Docker from "dockerode";
import * as http from "node:http";
import { readLocalImages } from "../automation/local-platform";
import { sweepLabelled } from "../test/e2e/platform";
import { fmt, median, numberArg } from "./stats";

const N = numberArg("tenants", 200);
const PORT = 18480; // Traefik's web entry point, on loopback
const images = readLocalImages();
const docker = new Docker();
const PREFIX = "bench-tn";
const label = { "odoo-saas.bench": PREFIX };

const subnetOf = (i: number) => `10.${213 + Math.floor(i / 256)}.${i % 256}.0/24`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(host: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: "127.0.0.1", port: PORT, path: "/", headers: { Host: host } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.setTimeout(2000, () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

async function untilRouted(host: string, timeoutMs = 120_000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if ((await get(host)) === 200) return Date.now() - start;
    await sleep(50);
  }
  throw new Error(`${host} not routed within ${timeoutMs} ms`);
}

const sweep = () => sweepLabelled([`odoo-saas.bench=${PREFIX}`]);

async function network(name: string, subnet?: string): Promise<void> {
  await docker.createNetwork({
    Name: name,
    Labels: label,
    ...(subnet ? { IPAM: { Config: [{ Subnet: subnet }] } } : {}),
  });
}

async function startTraefik(network: string): Promise<Docker.Container> {
  const c = await docker.createContainer({
    name: `${PREFIX}-traefik`,
    Image: images.ODOO_SAAS_TRAEFIK_IMAGE,
    Cmd: [
      "--providers.docker=true",
      "--providers.docker.exposedbydefault=false",
      `--providers.docker.network=${network}`,
      `--entrypoints.web.address=:80`,
      "--log.format=json",
    ],
    Labels: label,
    HostConfig: {
      NetworkMode: network,
      Binds: ["/var/run/docker.sock:/var/run/docker.sock:ro"],
      PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(PORT) }] },
    },
    ExposedPorts: { "80/tcp": {} },
  });
  await c.start();
  return c;
}

async function backend(i: number, network: string): Promise<Docker.Container> {
  const r = `${PREFIX}-t${i}`;
  const c = await docker.createContainer({
    name: r,
    Image: images.ODOO_SAAS_SOCAT_IMAGE,
    Entrypoint: ["socat"],
    Cmd: ["TCP-LISTEN:8069,fork,reuseaddr", "SYSTEM:echo HTTP/1.0 200 OK; echo; echo ok"],
    Labels: {
      ...label,
      "traefik.enable": "true",
      [`traefik.http.routers.${r}.rule`]: `Host(\`${r}.bench.test\`)`,
      [`traefik.http.routers.${r}.entrypoints`]: "web",
      [`traefik.http.services.${r}.loadbalancer.server.port`]: "8069",
      "traefik.docker.network": network,
    },
    HostConfig: { NetworkMode: network },
  });
  await c.start();
  return c;
}

/** Traefik's anonymous memory (its heap, not the page cache), in MiB. */
async function traefikMemoryMb(traefik: Docker.Container): Promise<number> {
  const s = (await traefik.stats({ stream: false })) as unknown as {
    memory_stats: { stats: Record<string, number>; usage: number };
  };
  return (s.memory_stats.stats.anon ?? s.memory_stats.stats.rss ?? s.memory_stats.usage) / 2 ** 20;
}

/** Whether backend `from` opens a TCP connection to backend `to`'s address on any network. */
async function reaches(from: string, to: string): Promise<boolean> {
  const info = await docker.getContainer(to).inspect();
  const address = Object.values(info.NetworkSettings.Networks)[0].IPAddress;
  const exec = await docker.getContainer(from).exec({
    Cmd: ["socat", "-u", `TCP:${address}:8069,connect-timeout=2`, "OPEN:/dev/null"],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({});
  await new Promise((r) => stream.on("end", r).resume());
  return (await exec.inspect()).ExitCode === 0;
}

async function layout(perTenant: boolean) {
  await sweep();
  const shared = `${PREFIX}-edge`;
  await network(shared);
  const traefik = await startTraefik(shared);
  await untilRouted("nothing.bench.test", 30_000).catch(() => undefined); // Traefik up (404s)
  const idleMb = await traefikMemoryMb(traefik);
  /** Tenant i as its stack would make it; the engine's time for it. */
  const addTenant = async (i: number): Promise<number> => {
    const start = Date.now();
    if (perTenant) {
      const own = `${PREFIX}-n${i}`;
      await network(own, subnetOf(i));
      await backend(i, own);
      await docker.getNetwork(own).connect({ Container: traefik.id });
    } else await backend(i, shared);
    return Date.now() - start;
  };
  const perTenantMs: number[] = [];
  for (let i = 0; i < N; i++) {
    perTenantMs.push(await addTenant(i));
    if ((i + 1) % 50 === 0) process.stdout.write(`  ${i + 1} tenants\n`);
  }
  // Every route answers before the next measurements.
  for (let i = 0; i < N; i++) await untilRouted(`${PREFIX}-t${i}.bench.test`);
  await sleep(5000);
  const atNMb = await traefikMemoryMb(traefik);
  // One more tenant with N routed: its start to its route answering is Traefik's reload at N.
  const engineMs = await addTenant(N);
  const routedMs = await untilRouted(`${PREFIX}-t${N}.bench.test`);
  const tenth = Math.max(1, Math.floor(N / 10));
  return {
    perTenantFirst: median(perTenantMs.slice(0, tenth)),
    perTenantLast: median(perTenantMs.slice(-tenth)),
    engineMs,
    routedMs,
    idleMb,
    atNMb,
    crossReach: await reaches(`${PREFIX}-t0`, `${PREFIX}-t1`),
  };
}

async function main() {
  console.log(
    `Tenant networks at ${N} tenants (container runtime, ${images.ODOO_SAAS_TRAEFIK_IMAGE})`,
  );
  const results: [string, Awaited<ReturnType<typeof layout>>][] = [];
  try {
    for (const [name, perTenant] of [
      ["shared", false],
      ["per-tenant", true],
    ] as const) {
      console.log(`\n${name}:`);
      results.push([name, await layout(perTenant)]);
    }
  } finally {
    await sweep();
  }
  console.log(
    `\n${"layout".padEnd(11)} ${"engine/tenant first".padStart(20)} ${"last".padStart(8)} ${"tenant N+1: engine".padStart(19)} ${"routed after".padStart(13)} ${"Traefik idle".padStart(13)} ${"at N".padStart(9)}  0 reaches 1`,
  );
  for (const [name, r] of results)
    console.log(
      `${name.padEnd(11)} ${fmt(r.perTenantFirst).padStart(20)} ${fmt(r.perTenantLast).padStart(8)} ${fmt(r.engineMs).padStart(19)} ${fmt(r.routedMs).padStart(13)} ${`${r.idleMb.toFixed(1)} MiB`.padStart(13)} ${`${r.atNMb.toFixed(1)} MiB`.padStart(9)}  ${r.crossReach ? "yes" : "no"}`,
    );
  const [shared, own] = results.map(([, r]) => r);
  console.log(
    `\nratios per-tenant / shared: engine per tenant (last tenth) ${(own.perTenantLast / shared.perTenantLast).toFixed(2)}, reload at N ${(own.routedMs / shared.routedMs).toFixed(2)}, Traefik memory at N ${(own.atNMb / shared.atNMb).toFixed(2)}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
