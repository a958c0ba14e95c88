#!/usr/bin/env bash
# The test command (README, .ci/run): prepares the machine, then type-checks, lints and runs jest.
# Extra arguments go to jest, e.g. `bash scripts/test.sh components/`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
# Each phase's start, in seconds since the tests began (CI's time per phase; prepare prints its own).
phase_started=$SECONDS
phase() { echo "[test] $1 (at $((SECONDS - phase_started))s)" >&2; }
phase tsc
npx tsc -p tsconfig.json --noEmit
phase "documentation links"
node scripts/check-links.mjs
phase "eslint + prettier"
npx eslint . --max-warnings 0
npx prettier --check . >/dev/null || { npx prettier --list-different .; exit 1; }
phase jest
results=$(mktemp)
status=0
npx jest --ci --json --outputFile="$results" "$@" || status=$?
# A plain closing line any CI log reader understands; then what passing means beyond no failure:
# nothing skipped or left to do, and (a whole run) every suite in the tree ran.
suites=$([ $# -eq 0 ] && git ls-files --cached --others --exclude-standard '*.test.ts' | wc -l || echo 0)
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const expected = Number(process.argv[2]);
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped, ${r.numTodoTests} todo; ${r.numTotalTestSuites} suites`);
  const problems = [];
  if (r.numPendingTests) problems.push(`${r.numPendingTests} tests skipped`);
  if (r.numTodoTests) problems.push(`${r.numTodoTests} tests left to do`);
  if (expected && r.numTotalTestSuites < expected)
    problems.push(`${r.numTotalTestSuites} suites ran, ${expected} exist`);
  for (const p of problems) console.error(`[test] not a pass: ${p}`);
  process.exit(problems.length ? 1 : 0);' "$results" "$suites" || status=1
# After a whole run that passed, on request: each suite's duration, for test/suite-order.cjs.
if [ $status = 0 ] && [ $# -eq 0 ] && [ "${ODOO_SAAS_RECORD_DURATIONS:-0}" = 1 ]; then
  node -e 'const fs = require("fs"), path = require("path");
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const d = {};
    for (const t of r.testResults) d[path.relative(process.cwd(), t.name)] = Math.max(1, Math.round((t.endTime - t.startTime) / 1000));
    const sorted = Object.fromEntries(Object.entries(d).sort(([a], [b]) => (a < b ? -1 : 1)));
    fs.writeFileSync("test/suite-durations.json", JSON.stringify(sorted, null, 2) + "\n");' "$results"
  echo "[test] suite durations recorded in test/suite-durations.json" >&2
fi
rm -f "$results"
phase done
exit $status
