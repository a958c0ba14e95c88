#!/usr/bin/env bash
# Provides pulumi-resource-docker at the version @pulumi/docker pins in package-lock.json, where
# the engine finds it (the plugin cache, `pulumi plugin install --file`), without downloads.
#
# Order: the plugin already installed at that version with this recipe; else, when
# ODOO_SAAS_OFFICIAL_DOCKER_PLUGIN=1 (a machine that reaches Pulumi's downloads), the official
# plugin (same resource tokens); else a build from the Go module proxy: the Terraform docker
# provider bridged with pulumi-terraform-bridge (providers/docker-bridge/ holds the only code of
# ours: main.go, the shim that reaches the provider's internal package, and a one-method stub for
# Pulumi's terraform-plugin-sdk fork). The built binary is cached keyed by version and recipe.
#
# Needs `pulumi` on PATH (scripts/ensure-pulumi.sh). Env: ODOO_SAAS_CACHE (default ~/.cache/odoo-saas).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[ensure-docker-provider] %s\n' "$*" >&2; }

TF_DOCKER=github.com/kreuzwerker/terraform-provider-docker@v0.0.0-20260916201441-96d331c98ff4
SDK_FORK=github.com/pulumi/terraform-plugin-sdk/v2@v2.0.0-20250923233607-7f1981c8674a

version=$(node -e 'const l = require(process.argv[1]);
  const v = l.packages?.["node_modules/@pulumi/docker"]?.version;
  if (!v) { console.error("no @pulumi/docker in package-lock.json"); process.exit(1); }
  console.log(v);' "$repo_root/package-lock.json")
recipe=$( (echo "$TF_DOCKER $SDK_FORK"; cat "$0" "$repo_root"/providers/docker-bridge/{go.mod,main.go,shim/shim.go,sdk-stub/*.go}) |
  sha256sum | cut -c1-12)
cache_root=${ODOO_SAAS_CACHE:-$HOME/.cache/odoo-saas}
build_root="$cache_root/docker-provider/v$version-$recipe"
binary="$build_root/pulumi-resource-docker"
plugin_dir="${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-docker-v$version"
stamp="$plugin_dir/.odoo-saas-recipe"

if [ -x "$plugin_dir/pulumi-resource-docker" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$recipe" ]; then
  log "pulumi-resource-docker v$version installed (recipe $recipe)"
  exit 0
fi

install_plugin() { # $1 = binary or archive
  pulumi plugin install resource docker "$version" --file "$1" --reinstall >&2
  echo "$recipe" >"$stamp"
  log "installed pulumi-resource-docker v$version in $plugin_dir"
}

official_plugin() {
  [ "${ODOO_SAAS_OFFICIAL_DOCKER_PLUGIN:-0}" = 1 ] || return 1
  local url="https://get.pulumi.com/releases/plugins/pulumi-resource-docker-v$version-linux-amd64.tar.gz"
  log "downloading the official plugin"
  local tmp; tmp=$(mktemp -d)
  curl -fsSL -o "$tmp/plugin.tgz" "$url" && install_plugin "$tmp/plugin.tgz"
}

build_bridge() {
  command -v go >/dev/null 2>&1 || { log "go is not installed; cannot build the docker provider"; return 1; }
  if [ ! -x "$binary" ]; then
    log "building pulumi-resource-docker v$version from the Go module proxy (cold: ~3-5 min on 2 cores)"
    export GOSUMDB=off GOFLAGS=-mod=mod CGO_ENABLED=0 # the checksum database answers 404 for some of these
    local src="$build_root/src"
    rm -rf "$src" && mkdir -p "$src"
    log "resolving modules"
    local tf_dir sdk_dir
    tf_dir=$(cd "$src" && go mod download -json "$TF_DOCKER" | node -pe 'JSON.parse(require("fs").readFileSync(0)).Dir')
    sdk_dir=$(cd "$src" && go mod download -json "$SDK_FORK" | node -pe 'JSON.parse(require("fs").readFileSync(0)).Dir')
    cp -r "$tf_dir" "$src/tfdocker" && cp -r "$sdk_dir" "$src/tfsdkfork" && chmod -R u+w "$src"
    mkdir -p "$src/tfdocker/shim" "$src/prov"
    cp "$repo_root/providers/docker-bridge/shim/shim.go" "$src/tfdocker/shim/"
    cp "$repo_root"/providers/docker-bridge/sdk-stub/*.go "$src/tfsdkfork/helper/schema/"
    cp "$repo_root/providers/docker-bridge/go.mod" "$repo_root/providers/docker-bridge/main.go" "$src/prov/"
    (
      cd "$src/prov"
      local started=$SECONDS
      ( while sleep 30; do log "  still building ($((SECONDS - started))s)"; done ) &
      local ticker=$!
      trap 'kill $ticker 2>/dev/null || true' EXIT
      # No `go mod tidy`: it would also resolve the bridge's test imports, which the proxy refuses.
      nice -n 10 go build -ldflags "-s -w -X main.version=$version" -o "$binary.tmp" . >&2
      kill $ticker 2>/dev/null || true
      mv "$binary.tmp" "$binary"
      log "built in $((SECONDS - started))s"
    )
    rm -rf "$src"
  fi
  install_plugin "$binary"
}

if ! official_plugin; then
  build_bridge
fi
