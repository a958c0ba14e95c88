// bench/tenant-networks: what a network per tenant costs, against one shared network (the floor,
// where tenants can reach each other), at N tenants on the container runtime: the platform's
// Traefik image with the docker provider, and N small HTTP backends (the platform's socat image
// answering 200; Odoo's own cost is not the question) routed by host as tenants are.
//   shared:   every backend on one network with Traefik;
//   gateway:  each backend alone on its own bridge network with its tenant gateway
//             (images/tenant-gateway), which is also on the shared one and is what Traefik routes
//             to: the platform's layout (components/tenant/tenant-gateway.ts);
//   attached: each backend alone on its own network, Traefik connected to each one (`docker
//             network connect`, no restart): the alternative not taken (docs/platform.md).
// For each layout: the engine's time per tenant (network, containers, connection), the first and
// last tenths' medians to show the trend, the time from a tenant's start to its route answering
// (Traefik's reload) at N, Traefik's memory (anonymous, from its cgroup) at N, a request's median
// time through the edge at N (the gateway's hop), and whether backend 0 reaches backend 1 or its
// gateway (it must not). Networks get explicit /24s (from 10.100.0.0) so the engine's default
// address pools (about 30 bridge networks) are not the limit measured.
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

const subnetOf = (i: number) => `10.${100 + Math.floor(i / 256)}.${i % 256}.0/24`;
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

/** Traefik's labels routing tenant i's host to port 8069 of what carries them, on `network`. */
const routeLabels = (i: number, network: string) => {
  const r = `${PREFIX}-t${i}`;
  return {
    "traefik.enable": "true",
    [`traefik.http.routers.${r}.rule`]: `Host(\`${r}.bench.test\`)`,
    [`traefik.http.routers.${r}.entrypoints`]: "web",
    [`traefik.http.services.${r}.loadbalancer.server.port`]: "8069",
    "traefik.docker.network": network,
  };
};

/** Tenant i's stand-in: answers 200 on 8069; routed directly unless `routed` is false. */
async function backend(i: number, network: string, routed = true): Promise<Docker.Container> {
  const c = await docker.createContainer({
    name: `${PREFIX}-t${i}`,
    Image: images.ODOO_SAAS_SOCAT_IMAGE,
    Entrypoint: ["socat"],
    // Reads the request's head before answering: a reply to an unread request can be reset away.
    Cmd: [
      "TCP-LISTEN:8069,fork,reuseaddr",
      // (socat reads backslashes in an address itself: none here; the head's last line is "\\r".)
      "SYSTEM:sed -u -E '/^.?$/q' >/dev/null; echo HTTP/1.0 200 OK; echo; echo ok",
    ],
    Labels: { ...label, ...(routed ? routeLabels(i, network) : {}) },
    HostConfig: { NetworkMode: network },
  });
  await c.start();
  return c;
}

/** Tenant i's gateway: on its own network and the shared one, routed, forwarding to its backend. */
async function gateway(i: number, own: string, shared: string): Promise<void> {
  const c = await docker.createContainer({
    name: `${PREFIX}-g${i}`,
    Image: images.ODOO_SAAS_TENANT_GATEWAY_IMAGE,
    Env: [`ODOO_HOST=${PREFIX}-t${i}`, `DATABASE_HOST=${PREFIX}-t${i}`, "DATABASE_PORT=8069"],
    Labels: { ...label, ...routeLabels(i, shared) },
    HostConfig: { NetworkMode: own },
  });
  await docker.getNetwork(shared).connect({ Container: c.id });
  await c.start();
}

/** Traefik's anonymous memory (its heap, not the page cache), in MiB. */
async function traefikMemoryMb(traefik: Docker.Container): Promise<number> {
  const s = (await traefik.stats({ stream: false })) as unknown as {
    memory_stats: { stats: Record<string, number>; usage: number };
  };
  return (s.memory_stats.stats.anon ?? s.memory_stats.stats.rss ?? s.memory_stats.usage) / 2 ** 20;
}

/** Whether container `from` opens a TCP connection to port 8069 of `to` on any of its addresses. */
async function reaches(from: string, to: string): Promise<boolean> {
  const info = await docker
    .getContainer(to)
    .inspect()
    .catch(() => undefined);
  for (const n of Object.values(info?.NetworkSettings.Networks ?? {})) {
    const exec = await docker.getContainer(from).exec({
      Cmd: [
        "socat",
        "-T",
        "2",
        "-u",
        `TCP:${n.IPAddress}:8069,connect-timeout=2`,
        "OPEN:/dev/null",
      ],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({});
    await new Promise((r) => stream.on("end", r).resume());
    if ((await exec.inspect()).ExitCode === 0) return true;
  }
  return false;
}

/** `count` requests, one after another, through the edge to `host`: the median time, failures. */
async function requests(host: string, count = 200): Promise<{ ms: number; failed: number }> {
  const times: number[] = [];
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    if ((await get(host)) === 200) times.push(Number(process.hrtime.bigint() - start) / 1e6);
    else failed++;
  }
  return { ms: median(times), failed };
}

type Layout = "shared" | "gateway" | "attached";

async function layout(kind: Layout) {
  await sweep();
  const shared = `${PREFIX}-edge`;
  await network(shared);
  const traefik = await startTraefik(shared);
  await untilRouted("nothing.bench.test", 30_000).catch(() => undefined); // Traefik up (404s)
  const idleMb = await traefikMemoryMb(traefik);
  /** Tenant i as its stack would make it; the engine's time for it. */
  const addTenant = async (i: number): Promise<number> => {
    const start = Date.now();
    const own = `${PREFIX}-n${i}`;
    if (kind === "shared") await backend(i, shared);
    else if (kind === "gateway") {
      await network(own, subnetOf(i));
      await backend(i, own, false);
      await gateway(i, own, shared);
    } else {
      await network(own, subnetOf(i));
      await backend(i, own);
      await docker.getNetwork(own).connect({ Container: traefik.id });
    }
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
  const { ms: latencyMs, failed } = await requests(`${PREFIX}-t0.bench.test`);
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
    latencyMs,
    failed,
    crossReach:
      (await reaches(`${PREFIX}-t0`, `${PREFIX}-t1`)) ||
      (await reaches(`${PREFIX}-t0`, `${PREFIX}-g1`)),
  };
}

async function main() {
  console.log(
    `Tenant networks at ${N} tenants (container runtime, ${images.ODOO_SAAS_TRAEFIK_IMAGE})`,
  );
  const results: [string, Awaited<ReturnType<typeof layout>>][] = [];
  try {
    for (const name of ["shared", "gateway", "attached"] as const) {
      console.log(`\n${name}:`);
      results.push([name, await layout(name)]);
    }
  } finally {
    await sweep();
  }
  console.log(
    `\n${"layout".padEnd(11)} ${"engine/tenant first".padStart(20)} ${"last".padStart(8)} ${"tenant N+1: engine".padStart(19)} ${"routed after".padStart(13)} ${"Traefik idle".padStart(13)} ${"at N".padStart(9)} ${"request".padStart(8)} ${"failed".padStart(6)}  0 reaches 1`,
  );
  for (const [name, r] of results)
    console.log(
      `${name.padEnd(11)} ${fmt(r.perTenantFirst).padStart(20)} ${fmt(r.perTenantLast).padStart(8)} ${fmt(r.engineMs).padStart(19)} ${fmt(r.routedMs).padStart(13)} ${`${r.idleMb.toFixed(1)} MiB`.padStart(13)} ${`${r.atNMb.toFixed(1)} MiB`.padStart(9)} ${`${r.latencyMs.toFixed(1)} ms`.padStart(8)} ${String(r.failed).padStart(6)}  ${r.crossReach ? "yes" : "no"}`,
    );
  const [[, shared], ...others] = results;
  for (const [name, r] of others)
    console.log(
      `ratios ${name} / shared: engine per tenant (last tenth) ${(r.perTenantLast / shared.perTenantLast).toFixed(2)}, reload at N ${(r.routedMs / shared.routedMs).toFixed(2)}, Traefik memory at N ${(r.atNMb / shared.atNMb).toFixed(2)}, request ${(r.latencyMs / shared.latencyMs).toFixed(2)}`,
    );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
