#!/usr/bin/env bash
# Sourced by start.sh and test.sh: brings a machine from fresh to ready, idempotently.
#   node modules (npm install when package-lock changed) -> Pulumi CLI (cached build) -> docker
#   resource plugin (cached bridge build) -> local services -> local images (cached by content).
# Exports PATH with the pinned Pulumi CLI first, and the engine's offline settings.
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

prep_started=$SECONDS
# Cold, Traefik's Go build is the longest step (about 10 minutes on 2 cores): it starts now, in the
# background (at low priority), and overlaps with the node modules, the services and the other
# images. Warm, it answers at once from its cache.
traefik_log=$(mktemp)
bash images/build-traefik.sh >"$traefik_log" 2>&1 &
traefik_build=$!

stamp=node_modules/.package-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # `npm install` from the lock rather than `npm ci`: the registry here does not serve some
  # other platforms' optional binaries (e.g. @msgpackr-extract/*-darwin-*), which npm cannot
  # record in the lock and `npm ci` then rejects as out of sync. Versions still come from the lock.
  echo "[prepare] npm install (from package-lock.json)" >&2
  # npm rewrites the lock it installs from; the lock as it was (committed or not) is kept byte for byte.
  lock_copy=$(mktemp)
  cp package-lock.json "$lock_copy"
  npm install --no-audit --no-fund --loglevel=error >&2
  cp "$lock_copy" package-lock.json && rm -f "$lock_copy"
  echo "$want" >"$stamp"
fi

pulumi_bin=$(bash scripts/ensure-pulumi.sh | tail -n1)
export PATH="$pulumi_bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
# Nothing may be downloaded here: plugins come from PATH or the plugin cache only.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

bash scripts/ensure-docker-provider.sh
bash scripts/services.sh
# promtool and amtool check the alert rules and the generated configurations (components/platform).
PATH="$(bash scripts/ensure-prometheus-tools.sh | tail -n1):$PATH"
# pebble-challtestsrv answers DNS for the custom-domain tests; pebble issues their certificates.
PATH="$(bash scripts/ensure-pebble.sh | tail -n1):$PATH"
if kill -0 "$traefik_build" 2>/dev/null; then
  echo "[prepare] waiting for Traefik's build (progress: $traefik_log)" >&2
fi
if ! wait "$traefik_build"; then
  cat "$traefik_log" >&2
  echo "[prepare] Traefik's build failed (above)" >&2
  exit 1
fi
grep -v '^/' "$traefik_log" >&2 || true # its progress lines, not the binary's path
rm -f "$traefik_log"
bash images/build.sh >/dev/null
echo "[prepare] ready in $((SECONDS - prep_started))s (pulumi $(pulumi version))" >&2
