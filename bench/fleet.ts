// bench/fleet: `fleet preview` of N tenant stacks at concurrency 1 and 4 (real engine,
// provider-free program): wall time, the speed-up ratio, and peak RSS of the process tree.
// Run: npm run bench:fleet [-- --stacks 20]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { StackRunner, TenantStacks } from "../automation";
import { fleetPreview, fleetUp, type FleetSpec } from "../automation/fleet";
import { providerFreeTenantProgram } from "../test/provider-free-program";
import { sampleRss } from "./rss-sampler";
import { fmt, numberArg } from "./stats";

const STACKS = numberArg("stacks", 20);

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-fleet-"));
  fs.mkdirSync(path.join(root, "state"));
  const settings = {
    dataDir: root,
    backendUrl: `file://${root}/state`,
    passphrase: "bench-fleet-passphrase",
    platformStack: "x",
  };
  const specs: FleetSpec[] = Array.from({ length: STACKS }, (_, n) => ({
    tenantId: `fleet-${String(n).padStart(3, "0")}`,
    customerId: "bench",
    plan: n % 2 ? "basic" : "standard",
    odooVersion: "17",
    adminEmail: "bench@example.com",
  }));
  const setup = new TenantStacks(
    new StackRunner({ ...settings, maxConcurrentRuns: 4 }),
    providerFreeTenantProgram,
  );
  const created = await fleetUp(setup, specs, { concurrency: 4 });
  if (created.some((r) => !r.ok)) throw new Error("setup failed");

  console.log(`# bench/fleet: preview of ${STACKS} tenant stacks, ${os.cpus().length} cores`);
  let baseline = 0;
  for (const concurrency of [1, 4]) {
    const stacks = new TenantStacks(
      new StackRunner({ ...settings, maxConcurrentRuns: concurrency }),
      providerFreeTenantProgram,
    );
    const rss = sampleRss();
    const started = performance.now();
    const results = await fleetPreview(stacks, specs, { concurrency });
    const elapsed = performance.now() - started;
    const peak = rss.stop();
    baseline ||= elapsed;
    const failed = results.filter((r) => !r.ok).length;
    console.log(
      `concurrency ${concurrency}: ${fmt(elapsed)}  ${(elapsed / STACKS / 1000).toFixed(2)} s/stack  ` +
        `speed-up ${(baseline / elapsed).toFixed(2)}x  peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB  failed ${failed}`,
    );
  }
  fs.rmSync(root, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
