// Longest suites first, so the two workers finish together instead of one running the slowest
// suite alone at the end. Jest's own timing cache (this machine's last run) wins; a fresh machine
// (CI) has none and reads the committed figures in test/suite-durations.json; a suite in neither
// is taken as long, since new suites are usually end-to-end ones.
// `ODOO_SAAS_RECORD_DURATIONS=1 bash scripts/test.sh` rewrites the file after a whole run.
const path = require("node:path");
const Sequencer = require("@jest/test-sequencer").default;
const recorded = require("./suite-durations.json");

const UNKNOWN_SECONDS = 300;

class LongestFirst extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const seconds = recorded[path.relative(test.context.config.rootDir, test.path)];
    return (seconds ?? UNKNOWN_SECONDS) * 1000;
  }
}

module.exports = LongestFirst;
