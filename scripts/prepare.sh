#!/usr/bin/env bash
# Sourced by start.sh and test.sh: brings a machine from fresh to ready, idempotently.
#   node modules (npm ci when package-lock changed) -> Pulumi CLI (cached build) -> local services.
# Exports PATH with the pinned Pulumi CLI first, and the engine's offline settings.
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

prep_started=$SECONDS
stamp=node_modules/.package-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[prepare] npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi

pulumi_bin=$(bash scripts/ensure-pulumi.sh | tail -n1)
export PATH="$pulumi_bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
# Nothing may be downloaded here: plugins come from PATH or the plugin cache only.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

bash scripts/services.sh
echo "[prepare] ready in $((SECONDS - prep_started))s (pulumi $(pulumi version))" >&2
