// bench/wake: what a sleeping tenant's first request waits through the whole product (its gateway
// holds it, asks the API, the reconciler runs the tenant's program, the engine starts Odoo, Odoo
// loads, the request is answered through Traefik), next to a floor measured in the same run: the
// same tenant's Odoo stopped and started by hand (docker stop / start, no API, no Pulumi), a request
// held by the same gateway and answered through the same Traefik. And what a sleeper keeps in
// memory (its gateway) against what it frees (its running Odoo: here the stand-in; a real Odoo
// holds ~150 MB per worker).
// Run: npm run bench:wake [-- --runs 5 --load 3]
import Docker from "dockerode";
import request from "supertest";
import { ADMIN_TOKEN, ApiHarness, eventually } from "../test/api-harness";
import { freePort } from "../test/helpers/free-port";
import { hostAddressForContainers } from "../test/helpers/host-address";
import { odooWithLoadTime } from "../test/helpers/loading-odoo";
import {
  apiEnvFor,
  BASE_DOMAIN,
  request as viaTraefik,
  startPlatform,
  sweepTenants,
} from "../test/e2e/platform";
import { median, numberArg } from "./stats";

const RUNS = numberArg("runs", 5);
/** Odoo's load time in the stand-in, seconds. */
const LOAD = numberArg("load", 3);
const TENANT = "bench-wake";
const HOST = `${TENANT}.${BASE_DOMAIN}`;
const docker = new Docker();

async function memoryMib(name: string): Promise<number> {
  const s = await docker.getContainer(name).stats({ stream: false });
  const cache = s.memory_stats.stats?.inactive_file ?? s.memory_stats.stats?.cache ?? 0;
  return (s.memory_stats.usage - cache) / 1024 / 1024;
}

async function main() {
  const address = await hostAddressForContainers(docker);
  const port = await freePort(address);
  const odoo = await odooWithLoadTime(LOAD);
  await sweepTenants([TENANT]);
  const p = await startPlatform("container", "e2eo", {
    tenants: [TENANT],
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
    const awake = { odoo: await memoryMib(`odoo-${TENANT}`), gateway: 0 };
    const wakes: number[] = [];
    const floors: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await eventually(async () => (await status()) === "sleeping", 120_000, "asleep");
      awake.gateway = await memoryMib(`odoo-${TENANT}-gateway`);
      let t0 = Date.now();
      await answered();
      wakes.push(Date.now() - t0);
      await eventually(async () => (await status()) === "running", 120_000, "awake");
      // The floor: the same Odoo stopped and started by the engine alone.
      const c = docker.getContainer(`odoo-${TENANT}`);
      await c.stop({ t: 10 });
      t0 = Date.now();
      await c.start();
      await answered();
      floors.push(Date.now() - t0);
    }
    const w = median(wakes);
    const f = median(floors);
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(
      `first request to a sleeping tenant -> answered: median ${s(w)} (runs: ${wakes.map(s).join(", ")}); ` +
        `floor (docker start, same gateway and Traefik) ${s(f)}; ratio ${(w / f).toFixed(2)}; runs ${RUNS}`,
    );
    console.log(
      `memory: asleep, the gateway ${awake.gateway.toFixed(1)} MiB; awake, the Odoo stand-in ` +
        `${awake.odoo.toFixed(1)} MiB besides it (a real Odoo: ~150 MB per worker)`,
    );
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
