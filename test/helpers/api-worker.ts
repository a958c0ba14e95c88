// A worker-role API process for the crash test: reconciles with the provider-free program,
// slowed down by STAND_IN_DELAY_MS so the test can kill it mid-operation.
import { loadConfig } from "../../api/config";
import { createLogger } from "../../api/logger";
import { startRuntime } from "../../api/runtime";
import { providerFreeTenantProgram } from "../provider-free-program";

const delayMs = Number(process.env.STAND_IN_DELAY_MS ?? 0);
startRuntime(loadConfig(), {
  http: false,
  logger: createLogger("silent"),
  programFor: (spec) => providerFreeTenantProgram({ ...spec, delayMs }),
}).then(() => process.stdout.write("READY\n"));
