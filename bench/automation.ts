// bench/automation: overhead of the automation layer over a bare `pulumi up`, and throughput of
// many stacks at concurrency 1, 2, 4. Real engine, provider-free program, file:// backend.
// Run: npm run bench:automation [-- --runs 7 --stacks 8]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { StackRunner, TenantStacks } from "../automation";
import { dynamicProviderEnv } from "../automation/dynamic-provider-env";
import { parseTenantSpec } from "../stacks/tenant/tenant-spec";
import { providerFreeTenantProgram } from "../test/provider-free-program";
import { bareCliInit, bareCliUp, type BareStack } from "./bare-cli";
import { sampleRss } from "./rss-sampler";
import { fmt, median, numberArg } from "./stats";

const RUNS = numberArg("runs", 7);
const STACKS = numberArg("stacks", 8);
const PASSPHRASE = "bench-automation-passphrase";

const spec = (tenantId: string, plan = "basic") =>
  parseTenantSpec({
    tenantId,
    customerId: "bench",
    plan,
    odooVersion: "17",
    adminEmail: "bench@example.com",
  });

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-automation-"));
  const backendUrl = `file://${path.join(root, "state")}`;
  fs.mkdirSync(path.join(root, "state"));
  const settings = {
    dataDir: root,
    backendUrl,
    passphrase: PASSPHRASE,
    maxConcurrentRuns: 4,
    platformStack: "x",
  };
  const runner = new StackRunner(settings);
  const stacks = new TenantStacks(runner, providerFreeTenantProgram);
  const env = { PULUMI_SKIP_UPDATE_CHECK: "true", ...dynamicProviderEnv() };
  const bare: BareStack = {
    workDir: path.join(root, "bare"),
    project: "odoo-saas-tenant-bare",
    stack: "bare",
    backendUrl,
    passphrase: PASSPHRASE,
    env,
  };

  console.log(`# bench/automation: ${RUNS} runs each, ${os.cpus().length} cores, pulumi on PATH`);
  await bareCliInit(bare, { "tenant:databasePassword": "bench-password-0123456789" });
  await bareCliUp(bare, providerFreeTenantProgram(spec("bare")));
  await stacks.up(spec("layer"));

  // Alternate the two paths run by run so drift affects both alike.
  const samples = {
    bareNoChange: [] as number[],
    layerNoChange: [] as number[],
    bareChange: [] as number[],
    layerChange: [] as number[],
  };
  for (let i = 0; i < RUNS; i++) {
    samples.bareNoChange.push(
      await time(() => bareCliUp(bare, providerFreeTenantProgram(spec("bare")))),
    );
    samples.layerNoChange.push(await time(() => stacks.up(spec("layer"))));
  }
  const plans = ["standard", "basic"];
  for (let i = 0; i < RUNS; i++) {
    samples.bareChange.push(
      await time(() => bareCliUp(bare, providerFreeTenantProgram(spec("bare", plans[i % 2])))),
    );
    samples.layerChange.push(await time(() => stacks.up(spec("layer", plans[i % 2]))));
  }
  const row = (name: string, b: number[], l: number[]) =>
    console.log(
      `${name.padEnd(16)} bare ${fmt(median(b))}   layer ${fmt(median(l))}   ratio ${(median(l) / median(b)).toFixed(2)}`,
    );
  console.log("\n## median wall time of one `up` (layer / bare; goal <= 1.15)");
  row("no-change up", samples.bareNoChange, samples.layerNoChange);
  row("one-change up", samples.bareChange, samples.layerChange);

  console.log(`\n## ${STACKS} new stacks (create) through the layer`);
  let baseline = 0;
  for (const concurrency of [1, 2, 4]) {
    const limited = new TenantStacks(
      new StackRunner({ ...settings, maxConcurrentRuns: concurrency }),
      providerFreeTenantProgram,
    );
    const rss = sampleRss();
    const ids = Array.from({ length: STACKS }, (_, i) => `c${concurrency}-t${i}`);
    const elapsed = await time(() => Promise.all(ids.map((id) => limited.up(spec(id)))));
    const peak = rss.stop();
    baseline ||= elapsed;
    console.log(
      `concurrency ${concurrency}: ${fmt(elapsed)}  ${((STACKS / elapsed) * 60000).toFixed(1)} stacks/min  ` +
        `speed-up ${(baseline / elapsed).toFixed(2)}x  peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  fs.rmSync(root, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
