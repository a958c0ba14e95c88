// `scripts/start.sh` runs this before the API: the platform stack on this machine's engine with the
// locally built images (the Odoo stand-in among them), as the stack the tenant programs reference
// (ODOO_SAAS_PLATFORM_STACK). Idempotent: an unchanged platform is a no-change `up` of seconds.
//
// Env: the automation settings (automation/settings.ts), ODOO_SAAS_LOCAL_POSTGRES_PASSWORD
// (required), ODOO_SAAS_LOCAL_DOMAIN (odoo.localhost), ODOO_SAAS_LOCAL_HTTPS_PORT (8443),
// ODOO_SAAS_LOCAL_HTTP_PORT (8880), ODOO_SAAS_LOCAL_POSTGRES_PORT (15432), ODOO_SAAS_LOCAL_RUNTIME
// (container | swarm).
import { StackRunner } from "../automation";
import { automationSettingsFromEnv } from "../automation/settings";
import type { Runtime } from "../components/workload";
import {
  localPlatformConfig,
  PLATFORM_PROJECT,
  upPlatform,
  waitForLocalPlatform,
} from "../automation/local-platform";

async function main() {
  const env = process.env;
  const settings = automationSettingsFromEnv(env);
  const [, project, stack] = settings.platformStack.split("/");
  if (project !== PLATFORM_PROJECT || !stack)
    throw new Error(`ODOO_SAAS_PLATFORM_STACK must be organization/${PLATFORM_PROJECT}/<stack>`);
  const password = env.ODOO_SAAS_LOCAL_POSTGRES_PASSWORD;
  if (!password) throw new Error("ODOO_SAAS_LOCAL_POSTGRES_PASSWORD is required");
  const options = {
    runtime: (env.ODOO_SAAS_LOCAL_RUNTIME ?? "container") as Runtime,
    namePrefix: "local",
    baseDomain: env.ODOO_SAAS_LOCAL_DOMAIN ?? "odoo.localhost",
    httpPort: Number(env.ODOO_SAAS_LOCAL_HTTP_PORT ?? 8880),
    httpsPort: Number(env.ODOO_SAAS_LOCAL_HTTPS_PORT ?? 8443),
    postgresPort: Number(env.ODOO_SAAS_LOCAL_POSTGRES_PORT ?? 15432),
  };
  const started = Date.now();
  const outcome = await upPlatform(
    new StackRunner(settings),
    stack,
    localPlatformConfig(options),
    password,
  );
  await waitForLocalPlatform(options, password);
  const changes = Object.entries(outcome.changes)
    .map(([op, n]) => `${n} ${op}`)
    .join(", ");
  console.error(
    `[local-platform] ${settings.platformStack} ready in ${((Date.now() - started) / 1000).toFixed(1)}s (${changes}); ` +
      `tenants at https://<tenant>.${options.baseDomain}:${options.httpsPort}/`,
  );
}

main().catch((e) => {
  console.error(`[local-platform] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
