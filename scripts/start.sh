#!/usr/bin/env bash
# The main job with embedded local defaults: prepares the machine (toolchain, local services),
# then starts the API and its workers on 127.0.0.1:3000 against the local PostgreSQL and Redis.
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
while IFS='=' read -r key value; do
  [ -n "$key" ] && [ -z "${!key:-}" ] && export "$key=$value"
done <.data/dev.env
echo "[start] admin API: curl -H \"Authorization: Bearer \$ADMIN_TOKEN\" http://127.0.0.1:${PORT:-3000}/admin/tenants (token in .data/dev.env)" >&2
exec npm start --silent
