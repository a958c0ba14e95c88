// `npm start`: the API and its workers in one process (set API_ROLE=http or worker to split them).
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./common/logger";
import { startRuntime } from "./runtime";

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const role = process.env.API_ROLE ?? "all";
  const runtime = await startRuntime(config, {
    logger,
    http: role !== "worker",
    workers: role !== "http",
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing running jobs");
    runtime.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
