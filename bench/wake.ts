// bench/wake: what sleep costs and saves, in one run on the container runtime.
//   1. Wake latency: a sleeping tenant's first request until it is answered through the whole
//      product (its gateway holds it, asks the API, the reconciler runs the tenant's program, the
//      engine starts Odoo, Odoo loads, the answer goes back through Traefik), p50 and p95 over
//      --runs wakes, against a floor measured alternately in the same run: the same Odoo stopped
//      and started by hand (docker stop / start and health-ready: no API, no Pulumi), the request
//      answered through the same gateway and Traefik. Target: p95 <= 1.5x the floor's p95.
//   2. What the waker adds to an awake tenant's requests: --requests GETs from a client on the
//      tenant's network, alternately straight to Odoo and through its gateway. Target: <= 2 ms p50.
//   3. Memory of a host with --fleet tenants, --asleep of them asleep, against all of them awake
//      (the Odoo stand-in holds far less than a real Odoo's ~150 MB per worker: both are stated).
// Run: npm run bench:wake [-- --runs 20 --load 3 --requests 500 --fleet 50 --asleep 45]
import * as fs from "node:fs";
import Docker from "dockerode";
import request from "supertest";
import { tenantNames } from "../components/tenant/names";
import { ADMIN_TOKEN, ApiHarness, eventually } from "../test/api-harness";
import { freePort } from "../test/helpers/free-port";
import { hostAddressForContainers } from "../test/helpers/host-address";
import { odooWithLoadTime } from "../test/helpers/loading-odoo";
import { runToEnd } from "../test/helpers/run-to-end";
import {
  apiEnvFor,
  BASE_DOMAIN,
  type E2EPlatform,
  request as viaTraefik,
  startPlatform,
  sweepTenants,
} from "../test/e2e/platform";
import { median, numberArg, percentile } from "./stats";

const RUNS = numberArg("runs", 20);
/** Odoo's load time in the stand-in, seconds. */
const LOAD = numberArg("load", 3);
const REQUESTS = numberArg("requests", 500);
const FLEET = numberArg("fleet", 50);
const ASLEEP = numberArg("asleep", 45);
const TENANT = "bench-wake";
const HOST = `${TENANT}.${BASE_DOMAIN}`;
const FLEET_IDS = Array.from(
  { length: FLEET },
  (_, n) => `wake-fleet-${String(n).padStart(2, "0")}`,
);
const docker = new Docker();

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const spread = (v: number[], unit: (n: number) => string) =>
  `p50 ${unit(median(v))}, p95 ${unit(percentile(v, 95))}`;

/** A container's memory in MiB as the kernel charges it, page cache that could be dropped left out. */
async function memoryMib(name: string): Promise<number> {
  const st = await docker.getContainer(name).stats({ stream: false });
  const cache = st.memory_stats.stats?.inactive_file ?? st.memory_stats.stats?.cache ?? 0;
  return (st.memory_stats.usage - cache) / 1024 / 1024;
}

/** The summed memory of the containers whose names start with `prefix`, and their count. */
async function memoryOf(prefix: string): Promise<{ mib: number; containers: number }> {
  const names = (await docker.listContainers({ filters: { name: [`^/${prefix}`] } })).map((c) =>
    c.Names[0].slice(1),
  );
  let mib = 0;
  for (let i = 0; i < names.length; i += 10)
    mib += (await Promise.all(names.slice(i, i + 10).map(memoryMib))).reduce((a, b) => a + b, 0);
  return { mib, containers: names.length };
}

/** The host's memory in use (MemTotal - MemAvailable), MiB. */
function hostUsedMib(): number {
  const info = fs.readFileSync("/proc/meminfo", "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(info)![1]);
  return (kb("MemTotal") - kb("MemAvailable")) / 1024;
}

// A client on the tenant's own network: each GET alternately straight to Odoo and through the
// gateway (same client, same network: the difference is the gateway's hop), after a warm-up.
const OVERHEAD_PROBE = `
import http.client, json, os, time
n = int(os.environ["REQUESTS"])
targets = {"direct": os.environ["ODOO"], "gateway": os.environ["GATEWAY"]}
conns = {k: http.client.HTTPConnection(h, 8069, timeout=10) for k, h in targets.items()}
out = {k: [] for k in targets}
for i in range(2 * (n + 20)):
    k = "direct" if i % 2 == 0 else "gateway"
    t = time.perf_counter()
    conns[k].request("GET", "/web/login", headers={"Host": os.environ["HOST"]})
    r = conns[k].getresponse()
    r.read()
    if r.status != 200:
        raise SystemExit(f"{k}: {r.status}")
    if i >= 40:
        out[k].append((time.perf_counter() - t) * 1000)
print(json.dumps(out))
`;

async function wakeLatency(status: () => Promise<string>, answered: () => Promise<void>) {
  const wakes: number[] = [];
  const floors: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await eventually(async () => (await status()) === "sleeping", 120_000, "asleep");
    let t0 = Date.now();
    await answered();
    wakes.push(Date.now() - t0);
    await eventually(async () => (await status()) === "running", 120_000, "awake");
    // The floor: the same Odoo stopped and started by the engine alone.
    const c = docker.getContainer(tenantNames("bench", TENANT).runtime);
    await c.stop({ t: 10 });
    t0 = Date.now();
    await c.start();
    await answered();
    floors.push(Date.now() - t0);
    process.stdout.write(`  wake ${run + 1}/${RUNS}: ${s(wakes[run])} (floor ${s(floors[run])})\n`);
  }
  console.log(
    `1. first request to a sleeping tenant -> answered: ${spread(wakes, s)}; floor (docker start, ` +
      `same gateway and Traefik): ${spread(floors, s)}; p95 ratio ` +
      `${(percentile(wakes, 95) / percentile(floors, 95)).toFixed(2)} (target <= 1.5), p50 ratio ` +
      `${(median(wakes) / median(floors)).toFixed(2)}; ${RUNS} wakes`,
  );
}

async function gatewayOverhead(image: string) {
  const names = tenantNames("bench", TENANT);
  const out = await runToEnd(docker, {
    image,
    script: 'python3 -c "$PROBE"',
    env: [
      `PROBE=${OVERHEAD_PROBE}`,
      `REQUESTS=${REQUESTS}`,
      `ODOO=${names.runtime}`,
      `GATEWAY=${names.gateway}`,
      `HOST=${HOST}`,
    ],
    network: names.network,
  });
  const { direct, gateway } = JSON.parse(out.split("\n").pop()!) as Record<string, number[]>;
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  console.log(
    `2. an awake tenant's GET /web/login, ${REQUESTS} each, alternating: straight to Odoo ` +
      `${spread(direct, ms)}; through its gateway ${spread(gateway, ms)}; the gateway adds ` +
      `${ms(median(gateway) - median(direct))} at p50 (target <= 2 ms)`,
  );
}

async function fleetMemory(p: E2EPlatform) {
  const spec = (id: string, state: "active" | "sleeping") => ({
    tenantId: id,
    customerId: `${id}-corp`,
    plan: "trial",
    odooVersion: "17",
    adminEmail: `owner@${id}.example`,
    state,
  });
  const inTurn = async (ids: string[], work: (id: string) => Promise<void>) => {
    const queue = [...ids];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) await work(id);
      }),
    );
  };
  const before = hostUsedMib();
  let t0 = Date.now();
  await inTurn(FLEET_IDS, async (id) => {
    await p.tenants.up(spec(id, "active"));
    await eventually(
      async () =>
        (await viaTraefik(p.httpsPort, `${id}.${BASE_DOMAIN}`, "/web/login")).status === 200,
      180_000,
      `${id} answering`,
    );
  });
  console.log(`   ${FLEET} trial tenants answering in ${s(Date.now() - t0)}`);
  await new Promise((r) => setTimeout(r, 30_000)); // settled: first checks done, pages loaded
  const awake = { fleet: await memoryOf("odoo-wake-fleet-"), host: hostUsedMib() - before };
  t0 = Date.now();
  await inTurn(FLEET_IDS.slice(0, ASLEEP), async (id) => {
    await p.tenants.up(spec(id, "sleeping"));
  });
  console.log(`   ${ASLEEP} of them put to sleep in ${s(Date.now() - t0)}`);
  await new Promise((r) => setTimeout(r, 30_000));
  const mostlyAsleep = { fleet: await memoryOf("odoo-wake-fleet-"), host: hostUsedMib() - before };
  const odooEach = (await memoryOf(`odoo-${FLEET_IDS[FLEET - 1]}`)).mib;
  const mib = (v: number) => `${v.toFixed(0)} MiB`;
  console.log(
    `3. ${FLEET} tenants all awake: their containers ${mib(awake.fleet.mib)} ` +
      `(${awake.fleet.containers} containers), the host +${mib(awake.host)}; ${ASLEEP} asleep: ` +
      `${mib(mostlyAsleep.fleet.mib)} (${mostlyAsleep.fleet.containers} containers), the host ` +
      `+${mib(mostlyAsleep.host)}; ratio ${(mostlyAsleep.fleet.mib / awake.fleet.mib).toFixed(2)}. ` +
      `An awake stand-in tenant (Odoo and gateway) holds ${mib(odooEach)}; a real Odoo trial ` +
      `(its master, 1 HTTP and 1 cron worker: 3 processes at Odoo's ~150 MB) would free ` +
      `~${mib(ASLEEP * 450)} for ${ASLEEP} sleepers`,
  );
}

async function main() {
  const address = await hostAddressForContainers(docker);
  const port = await freePort(address);
  const odoo = await odooWithLoadTime(LOAD);
  await sweepTenants([TENANT, ...FLEET_IDS]);
  const p = await startPlatform("container", "e2eo", {
    tenants: [TENANT, ...FLEET_IDS],
    config: (c) => ({
      ...c,
      waker: { url: `http://${address}:${port}`, holdSeconds: 120, activityReportSeconds: 1 },
      odooImages: { ...c.odooImages, "17": odoo },
    }),
  });
  const h = new ApiHarness({
    realProgram: true,
    env: {
      ...apiEnvFor(p),
      HOST: address,
      PORT: String(port),
      SLEEP_MINUTE_SECONDS: "0.1",
      SLEEP_CHECK_CRON: "* * * * * *",
    },
  });
  await h.start();
  const api = () => request(h.runtime.url!);
  const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const status = async () => (await api().get(`/admin/tenants/${TENANT}`).set(auth)).body.status;
  const answered = async () => {
    const r = await viaTraefik(p.httpsPort, HOST, "/stand-in/config", { timeoutMs: 180_000 });
    if (r.status !== 200) throw new Error(`answered ${r.status}: ${r.body.slice(0, 200)}`);
  };
  try {
    console.log(
      `# bench/wake: trial plan, Odoo stand-in loading in ${LOAD} s, container runtime, 2 cores`,
    );
    await api()
      .post("/admin/tenants")
      .set(auth)
      .send({ tenantId: TENANT, customerId: "bench", plan: "trial", odooVersion: "17" })
      .expect(202);
    await eventually(async () => (await status()) === "running", 240_000, "provisioned");
    await wakeLatency(status, answered);
    await gatewayOverhead(odoo);
    // The fleet is the automation layer's alone (unknown to the API: no sleep check touches it).
    await fleetMemory(p);
  } finally {
    await h.stop();
    for (const id of await p.tenants.list().catch(() => [] as string[]))
      await p.tenants.destroy(id).catch(() => undefined);
    await p.teardown();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
