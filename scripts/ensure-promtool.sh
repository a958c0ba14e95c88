#!/usr/bin/env bash
# Provides `promtool` (Prometheus's rule and configuration checker) from Debian's `prometheus`
# package, extracted into a cache rather than installed: installing the package would also start a
# Prometheus server on this machine. The platform's alert rules are tested with it
# (components/platform/alert-rules.test.ts).
#
# Prints the directory holding `promtool` on its last line of stdout; everything else goes to stderr.
# Env: ODOO_SAAS_CACHE (default ~/.cache/odoo-saas).
set -euo pipefail
log() { printf '[ensure-promtool] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
candidate() { apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: *//p'; }
version=$(candidate)
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  log "apt-get update (no prometheus package known yet)"
  as_root apt-get update -qq
  version=$(candidate)
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  log "apt has no prometheus package: Debian 12's main archive is needed"
  exit 1
fi
dir="${ODOO_SAAS_CACHE:-$HOME/.cache/odoo-saas}/prometheus/${version//[:+~]/_}"
if [ ! -x "$dir/promtool" ]; then
  log "extracting promtool from prometheus $version"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download "prometheus=$version" >/dev/null 2>&1) || {
    log "apt-get download prometheus=$version failed"
    exit 1
  }
  dpkg-deb -x "$work"/prometheus_*.deb "$work/x"
  mkdir -p "$dir"
  install -m 0755 "$work/x/usr/bin/promtool" "$dir/promtool"
fi
"$dir/promtool" --version 2>&1 | head -n1 >&2
echo "$dir"
