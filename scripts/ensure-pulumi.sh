#!/usr/bin/env bash
# Provides the Pulumi CLI at the version of @pulumi/pulumi pinned in package-lock.json.
#
# Order: a `pulumi` already on PATH at that version; else the official installer when the
# network allows it; else a build from the Go module proxy (this machine reaches no other host).
# The built binary is cached outside the repo, keyed by version, so warm runs take seconds.
#
# Prints the directory holding `pulumi` on its last line of stdout; everything else goes to stderr.
# Usage: scripts/ensure-pulumi.sh [version]     (env: ODOO_SAAS_CACHE, default ~/.cache/odoo-saas)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[ensure-pulumi] %s\n' "$*" >&2; }

pinned_version() {
  node -e '
    const lock = require(process.argv[1]);
    const v = lock.packages?.["node_modules/@pulumi/pulumi"]?.version;
    if (!v) { console.error("no @pulumi/pulumi in package-lock.json"); process.exit(1); }
    console.log(v);' "$repo_root/package-lock.json"
}

version=${1:-$(pinned_version)}
cache_root=${ODOO_SAAS_CACHE:-$HOME/.cache/odoo-saas}
bin_dir="$cache_root/pulumi/v$version/bin"

reports_version() { # $1 = pulumi binary; true when it prints exactly v$version
  local got
  got=$(PULUMI_SKIP_UPDATE_CHECK=true "$1" version 2>/dev/null || true)
  [ "$got" = "v$version" ]
}

# The Node.js language host and the dynamic-provider launcher go beside a CLI built here (where
# the CLI looks first), unless the official distribution's own are there; ours are kept current.
language_host() { # $1 = the CLI's directory
  local ours="$repo_root/providers/language-host" f
  for f in pulumi-language-nodejs pulumi-resource-pulumi-nodejs dynamic-provider-preload.cjs; do
    if [ -e "$1/$f" ] && ! grep -q "odoo-saas" "$1/$f" 2>/dev/null; then continue; fi # official
    cmp -s "$ours/$f" "$1/$f" 2>/dev/null || install -m 0755 "$ours/$f" "$1/$f"
  done
}
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if command -v pulumi >/dev/null 2>&1 && reports_version "$(command -v pulumi)"; then
  log "using pulumi v$version on PATH: $(command -v pulumi)"
  dirname "$(command -v pulumi)"
  exit 0
fi

if [ -x "$bin_dir/pulumi" ] && reports_version "$bin_dir/pulumi"; then
  log "using cached pulumi v$version: $bin_dir/pulumi"
  language_host "$bin_dir"
  echo "$bin_dir"
  exit 0
fi

mkdir -p "$bin_dir"

try_installer() {
  # The official installer downloads from get.pulumi.com; give it a short chance only.
  command -v curl >/dev/null 2>&1 || return 1
  curl -fsS --max-time 5 -o /dev/null https://get.pulumi.com/ 2>/dev/null || return 1
  log "network reaches get.pulumi.com: using the official installer"
  local tmp; tmp=$(mktemp -d)
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$version" --install-root "$tmp" --no-edit-path >&2 || return 1
  cp "$tmp"/bin/* "$bin_dir/" && rm -rf "$tmp"
}

build_from_go_proxy() {
  command -v go >/dev/null 2>&1 || { log "go is not installed; cannot build the Pulumi CLI"; return 1; }
  local src="$cache_root/pulumi/v$version/src"
  rm -rf "$src" && mkdir -p "$src"
  log "building pulumi v$version from the Go module proxy (cold: several minutes; cached afterwards)"
  # A wrapper module: `go install pkg@version` refuses modules with replace directives, so the
  # replaces Pulumi's own go.mod files rely on are copied here (the in-repo ../sdk path replace is
  # what the published sdk/v3 at the same version already is).
  cat >"$src/go.mod" <<MOD
module odoo-saas/pulumi-cli

go 1.25

require (
	github.com/pulumi/pulumi/pkg/v3 v$version
	github.com/pulumi/pulumi/sdk/v3 v$version
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
  # Keep sdk's golang.org/x/text pin (a CVE-motivated pin in sdk/go.mod) when it declares one.
  local sdk_mod
  sdk_mod=$(cd "$src" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$version" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).GoMod))')
  local text_pin
  text_pin=$(sed -n 's#^replace golang.org/x/text => golang.org/x/text \(v[^ ]*\)$#\1#p' "$sdk_mod" | head -n1)
  [ -n "$text_pin" ] && printf '\nreplace golang.org/x/text => golang.org/x/text %s\n' "$text_pin" >>"$src/go.mod"
  (
    cd "$src"
    log "resolving modules"
    # No `go get <package>`: it probes cmd/pulumi as a module path, and a proxy that answers 403
    # (rather than 404) for unknown paths makes that fatal. `go build -mod=mod` of a package in
    # a required module resolves the rest itself.
    go mod download github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/sdk/v3 >&2
    log "compiling (2 cores: expect 5-15 minutes cold)"
    local started=$SECONDS
    ( while sleep 30; do log "  still compiling ($((SECONDS - started))s)"; done ) &
    local ticker=$!
    trap 'kill $ticker 2>/dev/null || true' EXIT
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
      -o "$bin_dir/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
    kill $ticker 2>/dev/null || true
    mv "$bin_dir/pulumi.tmp" "$bin_dir/pulumi"
    log "built in $((SECONDS - started))s"
  )
}

# (Not `a || b`: errexit is off inside functions called from such a list.)
if ! try_installer; then
  build_from_go_proxy
fi
reports_version "$bin_dir/pulumi" || { log "built pulumi does not report v$version"; exit 1; }
language_host "$bin_dir"
log "pulumi v$version ready: $bin_dir/pulumi"
echo "$bin_dir"
