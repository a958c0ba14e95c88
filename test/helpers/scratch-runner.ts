import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { StackRunner } from "../../automation";

/**
 * A StackRunner on a file:// backend in a fresh temporary directory, for suites that run inline
 * programs of their own on the real engine (no platform stack behind them).
 */
export function scratchRunner(name: string, maxConcurrentRuns = 1) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `odoo-saas-${name}-`));
  fs.mkdirSync(path.join(dataDir, "state"));
  const runner = new StackRunner({
    dataDir,
    backendUrl: `file://${path.join(dataDir, "state")}`,
    passphrase: `${name}-test-passphrase`,
    maxConcurrentRuns,
    platformStack: "organization/odoo-saas-platform/unused",
  });
  return { runner, dataDir, remove: () => fs.rmSync(dataDir, { recursive: true, force: true }) };
}
