#!/usr/bin/env bash
# The test command (README, .ci/run): prepares the machine, then type-checks, lints and runs jest.
# Extra arguments go to jest, e.g. `bash scripts/test.sh components/`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
echo "[test] tsc" >&2
npx tsc -p tsconfig.json --noEmit
echo "[test] eslint + prettier" >&2
npx eslint . --max-warnings 0
npx prettier --check . >/dev/null || { npx prettier --list-different .; exit 1; }
echo "[test] jest" >&2
results=$(mktemp)
status=0
npx jest --ci --json --outputFile="$results" "$@" || status=$?
# A plain closing line any CI log reader understands.
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);' "$results" || true
rm -f "$results"
exit $status
