// bench/idle: what running tenants cost while nobody uses them, next to a floor measured in the
// same run (the platform alone).
//   1. the CPU of one health check: 10 bare containers checked every second, against none;
//   2. --tenants tenants (plan trial, Odoo stand-in, container runtime) provisioned through the
//      automation layer and answering through Traefik, then the whole machine's CPU over --window
//      seconds once their checks are steady, against the platform alone; the memory of each.
// Run: npm run bench:idle [-- --tenants 50 --window 60 --steady 120]
import Docker from "dockerode";
import { readLocalImages } from "../automation/local-platform";
import { tenantNames } from "../components/tenant/names";
import { eventually } from "../test/api-harness";
import {
  BASE_DOMAIN,
  request as viaTraefik,
  startPlatform,
  sweepTenants,
} from "../test/e2e/platform";
import { machineBusyTicks, ProcessCpuProfile } from "./process-cpu";
import { median, numberArg } from "./stats";

const TENANTS = numberArg("tenants", 50);
const WINDOW = numberArg("window", 60);
const STEADY = numberArg("steady", 120);
const INTERVAL = 2; // the platform's default check interval until healthy
const docker = new Docker();
const image = readLocalImages().ODOO_SAAS_ODOO_IMAGE_17;
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/** CPU-seconds the whole machine spends over `seconds` (all cores, idle and iowait excluded). */
async function machineCpu(seconds: number): Promise<number> {
  const before = machineBusyTicks();
  await sleep(seconds);
  return (machineBusyTicks() - before) / 100;
}

/** Each container's CPU over `seconds` (its cgroup's counter), as text. */
async function containerCpu(names: string[], seconds: number): Promise<string> {
  const used = async () =>
    Promise.all(
      names.map(
        async (n) =>
          (await docker.getContainer(n).stats({ stream: false })).cpu_stats.cpu_usage.total_usage,
      ),
    );
  const before = await used();
  await sleep(seconds);
  const after = await used();
  return names
    .map((n, i) => `${n} ${(((after[i] - before[i]) / 1e9 / seconds) * 100).toFixed(2)} %`)
    .join(", ");
}

/** CPU of one health check: containers checked every second against the same without checks. */
async function checkCost(): Promise<{ perCheckMs: number; checks: number }> {
  const run = async (name: string, healthcheck?: object) => {
    const c = await docker.createContainer({
      name,
      Image: image,
      Entrypoint: ["sleep", "infinity"],
      Healthcheck: healthcheck,
      HostConfig: { NetworkMode: "none" },
    });
    await c.start();
    return c;
  };
  const ids = Array.from({ length: 10 }, (_, i) => i);
  const quiet = await Promise.all(ids.map((i) => run(`bench-idle-quiet-${i}`)));
  await sleep(5);
  const floor = await machineCpu(WINDOW / 2);
  await Promise.all(quiet.map((c) => c.remove({ force: true })));
  const check = {
    Test: ["CMD-SHELL", "curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:8069/ || true"],
    Interval: 1e9,
  };
  const probed = await Promise.all(ids.map((i) => run(`bench-idle-checked-${i}`, check)));
  await sleep(5);
  const started = Date.now();
  const cpu = await machineCpu(WINDOW / 2);
  // Docker keeps the last 5 checks; at one a second (plus its run time) count them from the rate.
  const logs = await Promise.all(
    probed.map(async (c) => (await c.inspect()).State.Health?.Log ?? []),
  );
  const spacing = median(
    logs.flatMap((l) => l.slice(1).map((e, i) => Date.parse(e.Start) - Date.parse(l[i].Start))),
  );
  await Promise.all(probed.map((c) => c.remove({ force: true })));
  const checks = (ids.length * (Date.now() - started)) / spacing;
  return { perCheckMs: ((cpu - floor) * 1000) / checks, checks: Math.round(checks) };
}

async function main() {
  const ids = Array.from({ length: TENANTS }, (_, n) => `idle-${String(n).padStart(2, "0")}`);
  const p = await startPlatform("container", "e2eb", {
    tenants: ids,
    healthcheckIntervalSeconds: INTERVAL,
    config: (c) => ({ ...c, odooHealthcheckSteadySeconds: STEADY }),
  });
  try {
    console.log(
      `# bench/idle: ${TENANTS} tenants (trial, Odoo stand-in, container runtime), checks every ` +
        `${INTERVAL} s until healthy then every ${STEADY} s; CPU over ${WINDOW} s windows; 2 cores`,
    );
    const cost = await checkCost();
    console.log(
      `one health check: ${cost.perCheckMs.toFixed(0)} ms of CPU (dockerd, containerd, runc, the ` +
        `check; ${cost.checks} checks of 10 containers against the same without checks)`,
    );
    const floor = await machineCpu(WINDOW);
    const platformCpu = await containerCpu([`${p.prefix}-traefik`, `${p.prefix}-postgres`], WINDOW);
    console.log(`platform alone, by container: ${platformCpu}`);
    const queue = [...ids];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) {
          await p.tenants.up({
            tenantId: id,
            customerId: `${id}-corp`,
            plan: "trial",
            odooVersion: "17",
            adminEmail: `owner@${id}.example`,
          });
          await eventually(
            async () =>
              (await viaTraefik(p.httpsPort, `${id}.${BASE_DOMAIN}`, "/web/health")).status === 200,
            180000,
            `${id} reachable`,
          );
        }
      }),
    );
    console.log(`${TENANTS} tenants answering in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    await sleep(STEADY + 15); // every check past its first steady wait
    const profile = new ProcessCpuProfile(1000);
    profile.begin();
    const idle = await machineCpu(WINDOW);
    const groups = profile.end().groups;
    console.log(
      "idle tenants, CPU-seconds by group: " +
        Object.entries(groups)
          .map(([g, s]) => `${g} ${s.toFixed(2)}`)
          .join("; "),
    );
    const tenantsCpu = await containerCpu(
      [
        `${p.prefix}-traefik`,
        `${p.prefix}-postgres`,
        tenantNames("idle-00-corp", "idle-00").runtime,
      ],
      WINDOW,
    );
    console.log(`idle tenants, by container: ${tenantsCpu}`);
    const share = (cpu: number) => ((cpu / WINDOW) * 100).toFixed(1);
    console.log(
      `whole machine: platform alone ${share(floor)} % of one core; with ${TENANTS} idle tenants ` +
        `${share(idle)} %; the tenants' share ${share(idle - floor)} % ` +
        `(${(((idle - floor) / WINDOW / TENANTS) * 1000).toFixed(1)} ms of CPU a second each; target <= 5 % for 50)`,
    );
    const memory = await Promise.all(
      ids.map(async (id) => {
        const name = tenantNames(`${id}-corp`, id).runtime;
        const stats = await docker.getContainer(name).stats({ stream: false });
        return stats.memory_stats.usage - (stats.memory_stats.stats?.inactive_file ?? 0);
      }),
    );
    const mb = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(
      `memory of one idle tenant's container: median ${mb(median(memory))} MB, max ` +
        `${mb(Math.max(...memory))} MB (the Odoo stand-in, not Odoo)`,
    );
  } finally {
    await sweepTenants(ids);
    await p.teardown();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
