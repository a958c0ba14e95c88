#!/usr/bin/env bash
# Provides `pebble` (Let's Encrypt's ACME test server) and `pebble-challtestsrv` (its DNS and
# challenge test server), built from the Go module proxy into a cache. The custom-domain
# verification tests answer DNS with the test server; the ACME tests issue from Pebble.
#
# Prints the directory holding both on its last line of stdout; everything else goes to stderr.
# Env: ODOO_SAAS_CACHE (default ~/.cache/odoo-saas).
set -euo pipefail
log() { printf '[ensure-pebble] %s\n' "$*" >&2; }
version=v2.10.3
dir="${ODOO_SAAS_CACHE:-$HOME/.cache/odoo-saas}/pebble/$version"
if [ ! -x "$dir/pebble" ] || [ ! -x "$dir/pebble-challtestsrv" ]; then
  log "building pebble and pebble-challtestsrv $version from the Go module proxy"
  mkdir -p "$dir"
  GOBIN="$dir" GOFLAGS=-mod=mod go install \
    "github.com/letsencrypt/pebble/v2/cmd/pebble@$version" \
    "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@$version" >&2
fi
log "pebble $version: $dir"
echo "$dir"
