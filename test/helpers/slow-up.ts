// A worker process for the crash tests: starts a slow `up` of one tenant (provider-free program)
// and prints STARTED once the engine is running, then waits to be killed.
import { StackRunner, TenantStacks } from "../../automation";
import { providerFreeTenantProgram } from "../provider-free-program";

const [dataDir, backendUrl, tenantId] = process.argv.slice(2);
const runner = new StackRunner({
  dataDir,
  backendUrl,
  passphrase: process.env.PULUMI_CONFIG_PASSPHRASE!,
  maxConcurrentRuns: 1,
  platformStack: "organization/odoo-saas-platform/test",
});
const stacks = new TenantStacks(runner, (spec) =>
  providerFreeTenantProgram({ ...spec, delayMs: 60000 }),
);
let announced = false;
stacks
  .up(
    {
      tenantId,
      customerId: "cust",
      plan: "standard",
      odooVersion: "17",
      adminEmail: "owner@example.com",
    },
    {
      onProgress: (e) => {
        if (!announced && e.kind === "resource-started") {
          announced = true;
          process.stdout.write("STARTED\n");
        }
      },
    },
  )
  .then(() => process.stdout.write("FINISHED\n"))
  .catch((e) => process.stdout.write(`FAILED ${e.name}\n`));
