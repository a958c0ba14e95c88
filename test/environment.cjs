/* global process */
// Jest's node environment, absorbing what the API absorbs: an engine process killed mid-run (a
// timed-out run, an engine outage) leaves its inline program's next registration failing with
// gRPC UNAVAILABLE after the run is over. The API drops exactly those (orphaned-rpc-guard.ts,
// tested in a child process by test/automation.test.ts); jest would fail whichever test runs.
const { TestEnvironment } = require("jest-environment-node");

/** automation/orphaned-rpc-guard.ts's isOrphanedEngineRpcError, for this CommonJS file. */
const orphanedEngineRpc = (r) => !!r && r.code === 14 && typeof r.details === "string";

class AbsorbingOrphanedRpcs extends TestEnvironment {
  async setup() {
    await super.setup();
    this.realEmit = process.emit;
    const emit = this.realEmit;
    process.emit = function (event, reason, ...rest) {
      if (event === "unhandledRejection" && orphanedEngineRpc(reason)) {
        process.stderr.write(
          `[test environment] absorbed an orphaned engine RPC: ${reason.message}\n`,
        );
        return true;
      }
      return emit.call(this, event, reason, ...rest);
    };
  }

  async teardown() {
    if (this.realEmit) process.emit = this.realEmit;
    await super.teardown();
  }
}

module.exports = AbsorbingOrphanedRpcs;
