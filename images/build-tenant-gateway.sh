#!/usr/bin/env bash
# Builds the tenant gateway's binary (images/tenant-gateway/main.go, standard library only),
# cached by its sources' hash. Prints the binary's path on its last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
recipe=$(cat "$0" "$here"/tenant-gateway/go.mod "$here"/tenant-gateway/*.go | sha256sum | cut -c1-12)
out="${ODOO_SAAS_CACHE:-$HOME/.cache/odoo-saas}/tenant-gateway/$recipe"
mkdir -p "$out"
exec 9>"$out.lock"
flock 9
if [ ! -x "$out/tenant-gateway" ]; then
  (cd "$here/tenant-gateway" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" \
    -o "$out/tenant-gateway.tmp" . >&2)
  mv "$out/tenant-gateway.tmp" "$out/tenant-gateway"
fi
echo "$out/tenant-gateway"
