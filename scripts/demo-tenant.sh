#!/usr/bin/env bash
# Creates a demo tenant through the running API (`bash scripts/start.sh` in another terminal),
# waits until its Odoo answers through the local Traefik, and prints its URL.
# Usage: scripts/demo-tenant.sh [tenant-id]   (default: demo)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tenant=${1:-demo}
[ -f .data/dev.env ] || { echo "no .data/dev.env: start the platform first (bash scripts/start.sh)" >&2; exit 2; }
token=$(sed -n 's/^ADMIN_TOKEN=//p' .data/dev.env)
api="http://127.0.0.1:${PORT:-3000}"
domain=${ODOO_SAAS_LOCAL_DOMAIN:-odoo.localhost}
https_port=${ODOO_SAAS_LOCAL_HTTPS_PORT:-8443}
call() { curl -sS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=process.argv[1].split(".").reduce((o,k)=>o?.[k],JSON.parse(s));console.log(v??"")})' "$1"; }

curl -fsS -o /dev/null "$api/healthz" || { echo "the API does not answer on $api: start it with bash scripts/start.sh" >&2; exit 2; }
status=$(call -o /dev/null -w '%{http_code}' -X POST "$api/admin/tenants" -d "{\"tenantId\":\"$tenant\",\"customerId\":\"$tenant\",\"plan\":\"trial\",\"odooVersion\":\"17\",\"adminEmail\":\"owner@$tenant.example\"}")
case $status in
  202) echo "[demo] creating tenant $tenant" >&2 ;;
  409) echo "[demo] tenant $tenant exists already" >&2 ;;
  *) echo "[demo] the API answered $status to the create" >&2; exit 1 ;;
esac
for _ in $(seq 1 180); do
  view=$(call "$api/admin/tenants/$tenant")
  [ "$(echo "$view" | field converged)" = true ] && break
  error=$(echo "$view" | field lastError)
  [ -n "$error" ] && { echo "[demo] provisioning failed: $error" >&2; exit 1; }
  echo "[demo] $(echo "$view" | field lastOperation.status || true)..." >&2
  sleep 2
done
url="https://$tenant.$domain:$https_port/"
for _ in $(seq 1 60); do
  if curl -ksf -o /dev/null --resolve "$tenant.$domain:$https_port:127.0.0.1" "${url}web/health"; then
    echo "[demo] $tenant answers (self-signed certificate; *.localhost resolves to this machine):" >&2
    echo "$url"
    exit 0
  fi
  sleep 1
done
echo "[demo] $tenant converged but $url does not answer" >&2
exit 1
