#!/usr/bin/env bash
# Builds the Traefik binary for the test image from the Go module proxy (v3.7.13 builds there
# through a wrapper module; see images/traefik/go.mod for what stands in for refused modules).
# Cached by recipe hash. Prints the binary's path on its last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[build-traefik] %s\n' "$*" >&2; }
version=v3.7.13
recipe=$(cat "$0" "$here"/traefik/go.mod "$here"/traefik/*/*.go "$here"/traefik/*/go.mod | sha256sum | cut -c1-12)
out="${ODOO_SAAS_CACHE:-$HOME/.cache/odoo-saas}/traefik/$version-$recipe"
# One build at a time: scripts/prepare.sh starts this in the background and images/build.sh asks
# again later; the second caller waits here, then finds the binary.
mkdir -p "$out"
exec 9>"$out.lock"
flock 9
if [ -x "$out/traefik" ]; then echo "$out/traefik"; exit 0; fi

export GOSUMDB=off GOFLAGS=-mod=mod CGO_ENABLED=0
src="$out/src"
rm -rf "$src" && mkdir -p "$src"
log "building Traefik $version from the Go module proxy (cold: ~4-6 min on 2 cores)"
cp "$here/traefik/go.mod" "$src/"
cp -r "$here/traefik/ext" "$src/ext"
module_dir() { (cd "$src" && go mod download -json "$1" | node -pe 'JSON.parse(require("fs").readFileSync(0)).Dir'); }
cp -r "$(module_dir github.com/abbot/go-http-auth@v0.4.0)" "$src/go-http-auth"
cp -r "$(module_dir github.com/go-acme/lego/v5@v5.4.1)" "$src/lego"
chmod -R u+w "$src"
cp "$here"/traefik/go-http-auth/* "$src/go-http-auth/"
cp "$here/traefik/lego-dns/zz_gen_dns_providers.go" "$src/lego/providers/dns/"
rm -f "$src/lego/providers/dns/dns_providers_test.go"
find "$src/lego/providers/dns" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
(
  cd "$src"
  started=$SECONDS
  ( while sleep 30; do log "  still building ($((SECONDS - started))s)"; done ) &
  ticker=$!
  trap 'kill $ticker 2>/dev/null || true' EXIT
  nice -n 10 go build -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$version" \
    -o "$out/traefik.tmp" github.com/traefik/traefik/v3/cmd/traefik >&2
  kill $ticker 2>/dev/null || true
  mv "$out/traefik.tmp" "$out/traefik"
  log "built in $((SECONDS - started))s"
)
rm -rf "$src"
echo "$out/traefik"
