// One API process of its own (configured from its environment, like api/main.ts) running the
// provider-free tenant program, for suites that kill or run several processes: the crash test
// (workers only) and the soak (two full processes). STAND_IN_DELAY_MS slows each `up` down;
// API_HTTP=false leaves HTTP out; LOG_FILE takes the JSON log lines. Prints READY when started.
import pino from "pino";
import { loadConfig } from "../../api/config";
import { createLogger } from "../../api/common/logger";
import { startRuntime } from "../../api/runtime";
import { providerFreeTenantProgram } from "../provider-free-program";

const delayMs = Number(process.env.STAND_IN_DELAY_MS ?? 0);
const config = loadConfig();
startRuntime(config, {
  http: process.env.API_HTTP !== "false",
  workers: true,
  logger: process.env.LOG_FILE
    ? createLogger(config.LOG_LEVEL, pino.destination({ dest: process.env.LOG_FILE, append: true }))
    : createLogger("silent"),
  programFor: (spec) => providerFreeTenantProgram({ ...spec, delayMs }),
}).then(
  (runtime) => {
    process.stdout.write(`READY ${runtime.url ?? ""}\n`);
    // Graceful on SIGTERM, like api/main.ts; SIGKILL is what the tests use to crash it.
    process.on("SIGTERM", () => void runtime.close().then(() => process.exit(0)));
  },
  (err) => {
    process.stderr.write(`API process failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
