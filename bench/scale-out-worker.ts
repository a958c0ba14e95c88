// One worker process of bench/scale-out: the API runtime with its workers, configured from the
// environment as the API is, running the provider-free tenant program (engine work without Odoo).
import { createLogger } from "../api/common/logger";
import { loadConfig } from "../api/config";
import { startRuntime } from "../api/runtime";
import { providerFreeTenantProgram, type StandInSpec } from "../test/provider-free-program";

startRuntime(loadConfig(process.env), {
  logger: createLogger("silent"),
  workers: true,
  programFor: (spec) => providerFreeTenantProgram(spec as StandInSpec),
})
  .then((runtime) => {
    console.log("ready");
    process.on("SIGTERM", () => void runtime.close().then(() => process.exit(0)));
  })
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
