// bench/deployed: the platform as operators deploy it (Kill Bill and the API as services on the
// engine, from the images built here), timed on the container runtime, side by side in one run:
//   1. the platform's first `up` (images built) until every control-plane service is healthy, and
//      an `up` with no change (what each merged pull request costs when nothing moved);
//   2. a subscription made in the platform's Kill Bill -> the tenant answers through Traefik
//      (median of --runs), next to the floor: the same measure with the API and Kill Bill on the
//      host (a process, as scripts/start.sh runs them), its tenants on the same platform;
//   3. each control-plane container's memory at rest.
// Run: npm run bench:deployed [-- --runs 5]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ApiHarness, WEBHOOK_SECRET, eventually } from "../test/api-harness";
import {
  containerOf,
  controlPlaneReady,
  startDeployedPlatform,
} from "../test/e2e/deployed-platform";
import {
  apiEnvFor,
  BASE_DOMAIN,
  docker,
  request as viaTraefik,
  sweepTenants,
} from "../test/e2e/platform";
import { RealKillBill } from "../test/killbill-server";
import { median, numberArg } from "./stats";

const RUNS = numberArg("runs", 5);
const NAME = "e2ej";
const SERVICES = ["api", "killbill", "killbill-postgres", "postgres", "redis", "traefik"];

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main() {
  const backups = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-bench-deployed-"));
  const tenants: string[] = [];
  let started = Date.now();
  const { p, kb } = await startDeployedPlatform("container", NAME, backups);
  let host: ApiHarness | undefined;
  try {
    await controlPlaneReady("container", NAME, kb);
    const firstUp = Date.now() - started;
    started = Date.now();
    await p.reconfigure((c) => c);
    const noChangeUp = Date.now() - started;
    console.error(`[bench] platform up ${seconds(firstUp)}, no-change up ${seconds(noChangeUp)}`);

    // The floor's control plane: the API and Kill Bill on the host, tenants on the same platform.
    const hostKb = await RealKillBill.start();
    host = new ApiHarness({ realProgram: true, killbill: hostKb, env: apiEnvFor(p) });
    await host.start();
    await hostKb.registerCallback(`${host.runtime.url}/webhooks/killbill/${WEBHOOK_SECRET}`);

    const answering = (id: string) =>
      eventually(
        async () =>
          (
            await viaTraefik(p.httpsPort, `${id}.${BASE_DOMAIN}`, "/web/health").catch(() => ({
              status: 0,
            }))
          ).status === 200,
        300_000,
        `${id} answering`,
      );
    const subscribeAndWait = async (billing: RealKillBill, id: string) => {
      tenants.push(id);
      const account = await billing.createAccount({
        name: id,
        externalKey: `${id}-corp`,
        email: `owner@${id}.example`,
      });
      const t0 = Date.now();
      await billing.subscribe(account, "odoo-basic-monthly", id);
      await answering(id);
      return Date.now() - t0;
    };
    const deployed: number[] = [];
    const onHost: number[] = [];
    const run = Date.now().toString(36).slice(-4); // the host's Kill Bill keeps earlier runs' keys
    for (let i = 0; i < RUNS; i++) {
      // Alternated, so drift over the run (caches, the engine's state) falls on both alike.
      onHost.push(await subscribeAndWait(hostKb, `bench-host-${run}-${i}`));
      deployed.push(await subscribeAndWait(kb, `bench-dep-${run}-${i}`));
      console.error(
        `[bench] run ${i + 1}/${RUNS}: host ${seconds(onHost[i])}, deployed ${seconds(deployed[i])}`,
      );
    }

    const memory: string[] = [];
    for (const service of SERVICES) {
      const c = docker.getContainer((await containerOf("container", `${NAME}-${service}`)).Id);
      const stats = (await c.stats({ stream: false })) as { memory_stats: { usage: number } };
      memory.push(`${service} ${(stats.memory_stats.usage / 1024 ** 2).toFixed(0)} MiB`);
    }
    const floor = median(onHost);
    const measured = median(deployed);
    console.log(`
| what                                                        | deployed   | API on the host (floor) | ratio |
| ----------------------------------------------------------- | ---------- | ----------------------- | ----- |
| platform first up, to every service healthy                 | ${seconds(firstUp)} |                         |       |
| platform up, nothing changed                                | ${seconds(noChangeUp)} |                         |       |
| subscription -> answering through Traefik, p50 of ${RUNS}         | ${seconds(measured)} | ${seconds(floor)}                  | ${(measured / floor).toFixed(2)}  |

memory at rest: ${memory.join(", ")}
`);
  } finally {
    await host?.stop();
    await sweepTenants(tenants);
    await p.teardown();
    fs.rmSync(backups, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
