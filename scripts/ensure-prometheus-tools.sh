#!/usr/bin/env bash
# Provides `promtool` and `amtool` (Prometheus's and Alertmanager's checkers) from Debian's
# `prometheus` and `prometheus-alertmanager` packages, extracted into a cache rather than installed:
# installing the packages would also start their servers on this machine. The platform's alert
# rules and generated configurations are tested with them (components/platform/*.test.ts).
#
# Prints the directory holding both on its last line of stdout; everything else goes to stderr.
# Env: ODOO_SAAS_CACHE (default ~/.cache/odoo-saas).
set -euo pipefail
log() { printf '[ensure-prometheus-tools] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p'; }
known() { [ -n "$1" ] && [ "$1" != "(none)" ]; }
prometheus=$(candidate prometheus)
alertmanager=$(candidate prometheus-alertmanager)
if ! known "$prometheus" || ! known "$alertmanager"; then
  log "apt-get update (no prometheus packages known yet)"
  as_root apt-get update -qq
  prometheus=$(candidate prometheus)
  alertmanager=$(candidate prometheus-alertmanager)
fi
if ! known "$prometheus" || ! known "$alertmanager"; then
  log "apt has no prometheus packages: Debian 12's main archive is needed"
  exit 1
fi
dir="${ODOO_SAAS_CACHE:-$HOME/.cache/odoo-saas}/prometheus/${prometheus//[:+~]/_}-am-${alertmanager//[:+~]/_}"
if [ ! -x "$dir/promtool" ] || [ ! -x "$dir/amtool" ]; then
  log "extracting promtool ($prometheus) and amtool ($alertmanager)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download "prometheus=$prometheus" "prometheus-alertmanager=$alertmanager" >/dev/null 2>&1) || {
    log "apt-get download of prometheus and prometheus-alertmanager failed"
    exit 1
  }
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/x"; done
  mkdir -p "$dir"
  install -m 0755 "$work/x/usr/bin/promtool" "$work/x/usr/bin/amtool" "$dir/"
fi
"$dir/promtool" --version 2>&1 | head -n1 >&2
"$dir/amtool" --version 2>&1 | head -n1 >&2
echo "$dir"
