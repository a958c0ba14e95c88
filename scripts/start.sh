#!/usr/bin/env bash
# The main job with embedded local defaults: prepares the machine (toolchain, docker plugin, local
# services and images), brings up a local platform stack (Traefik on 127.0.0.1:8443, PostgreSQL,
# Redis; set ODOO_SAAS_LOCAL_PLATFORM=0 to skip) and a real Kill Bill on 127.0.0.1:8080 set up
# for it (ODOO_SAAS_LOCAL_KILLBILL=0 to skip), then starts the API and its workers on
# 127.0.0.1:3000 against the local PostgreSQL and Redis. `bash scripts/demo-tenant.sh` then
# creates a tenant through the API and prints its URL.
# Development secrets are generated once into .data/dev.env (never used outside this machine);
# any variable already set in the environment wins.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
mkdir -p .data
if [ ! -f .data/dev.env ]; then
  umask 077
  cat >.data/dev.env <<ENV
ADMIN_TOKEN=$(openssl rand -hex 24)
KILLBILL_WEBHOOK_SECRET=$(openssl rand -hex 24)
KILLBILL_PASSWORD=password
KILLBILL_API_KEY=odoo-saas
KILLBILL_API_SECRET=odoo-saas-secret
ODOO_SAAS_DEV=1
ODOO_SAAS_DATA_DIR=$PWD/.data/automation
ENV
  echo "[start] wrote development secrets to .data/dev.env" >&2
fi
if ! grep -q '^ODOO_SAAS_LOCAL_POSTGRES_PASSWORD=' .data/dev.env; then
  echo "ODOO_SAAS_LOCAL_POSTGRES_PASSWORD=$(openssl rand -hex 24)" >>.data/dev.env
fi
if ! grep -q '^BACKUP_PASSWORD=' .data/dev.env; then
  # The restic repository's key: losing it loses every backup (keep a copy off the machine).
  printf 'BACKUP_PASSWORD=%s\nBACKUP_REPOSITORY=%s\n' "$(openssl rand -hex 24)" "$PWD/.data/backups" >>.data/dev.env
fi
mkdir -p .data/backups
BACKUP_AGENT_IMAGE=$(sed -n 's/^ODOO_SAAS_BACKUP_AGENT_IMAGE=//p' images/images.env)
export BACKUP_AGENT_IMAGE
while IFS='=' read -r key value; do
  [ -n "$key" ] && [ -z "${!key:-}" ] && export "$key=$value"
done <.data/dev.env
if [ "${ODOO_SAAS_LOCAL_KILLBILL:-1}" != 0 ]; then
  # A real Kill Bill on 127.0.0.1:8080 (scripts/ensure-killbill.sh) whose notifications reach the API.
  KILLBILL_URL=$(bash scripts/ensure-killbill.sh | tail -n1)
  export KILLBILL_URL
  node bin/odoo-saas killbill setup \
    --callback "http://127.0.0.1:${PORT:-3000}/webhooks/killbill/$KILLBILL_WEBHOOK_SECRET" |
    sed 's/^/[killbill] /' >&2
fi
if [ "${ODOO_SAAS_LOCAL_PLATFORM:-1}" != 0 ]; then
  node -r ts-node/register/transpile-only cli/local-platform.ts
  # A tenant is converged once it answers through the local Traefik.
  export EDGE_PROBE=${EDGE_PROBE:-https://127.0.0.1:8443}
  # Its log says why a certificate was refused (GET /admin/tenants/:id/certificates).
  export TRAEFIK_NAME=${TRAEFIK_NAME:-local-traefik}
fi
echo "[start] admin API: curl -H \"Authorization: Bearer \$ADMIN_TOKEN\" http://127.0.0.1:${PORT:-3000}/admin/tenants (token in .data/dev.env)" >&2
exec npm start --silent
