#!/bin/bash
# Forwards, each connection to a fixed target resolved when it arrives (a restarted Odoo or pooler
# has a new address):
#   :8069 and :8072  -> the tenant's Odoo (Traefik's requests and real-time channel, inbound)
#   :5432            -> the platform's database endpoint (the pooler or the shared server, outbound)
# Any forward that dies stops the gateway: the engine restarts it, never half of it.
set -euo pipefail
: "${ODOO_HOST:?ODOO_HOST is required}" "${DATABASE_HOST:?DATABASE_HOST is required}"
: "${DATABASE_PORT:?DATABASE_PORT is required}"
forward() { socat "TCP-LISTEN:$1,fork,reuseaddr" "TCP:$2:$3" & }
forward 8069 "$ODOO_HOST" 8069
forward 8072 "$ODOO_HOST" 8072
forward 5432 "$DATABASE_HOST" "$DATABASE_PORT"
trap 'kill $(jobs -p) 2>/dev/null' TERM INT
wait -n
echo "tenant-gateway: a forward exited; stopping" >&2
exit 1
