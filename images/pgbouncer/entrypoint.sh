#!/bin/bash
# PgBouncer for tenants' Odoo, configured from the environment:
#   POOLER_SERVER_HOST, POOLER_SERVER_PORT   the PostgreSQL server
#   POOLER_AUTH_USER, POOLER_AUTH_PASSWORD   the role that looks clients' secrets up (or *_FILE)
#   POOLER_TRANSACTION_POOL_SIZE             server connections per tenant database (transaction mode)
#   POOLER_SESSION_POOL_SIZE                 server connections per tenant on `postgres` (session mode)
# Tenant databases are pooled per transaction; `postgres` per session, because Odoo's cron and bus
# workers hold LISTEN there. Clients log in with their own role's SCRAM secret, read from the
# server (auth_query); PgBouncer logs in to the server as them with the keys of that exchange, so
# it holds no tenant password. Superusers cannot log in through it.
set -euo pipefail

from_file() { # VAR: VAR_FILE's content wins when set
  local file_var="${1}_FILE"
  if [ -n "${!file_var:-}" ]; then export "$1"="$(<"${!file_var}")"; fi
}

if [ "${1:-}" = pgbouncer ]; then
  shift
  from_file POOLER_AUTH_PASSWORD
  : "${POOLER_SERVER_HOST:?POOLER_SERVER_HOST is required}"
  : "${POOLER_AUTH_USER:?POOLER_AUTH_USER is required}"
  : "${POOLER_AUTH_PASSWORD:?POOLER_AUTH_PASSWORD (or POOLER_AUTH_PASSWORD_FILE) is required}"
  port=${POOLER_SERVER_PORT:-5432}
  conf=/run/pgbouncer
  umask 077
  # userlist.txt holds the lookup role only; quotes in a value are doubled.
  printf '"%s" "%s"\n' "${POOLER_AUTH_USER//\"/\"\"}" "${POOLER_AUTH_PASSWORD//\"/\"\"}" >"$conf/userlist.txt"
  cat >"$conf/pgbouncer.ini" <<INI
[databases]
postgres = host=$POOLER_SERVER_HOST port=$port dbname=postgres pool_mode=session pool_size=${POOLER_SESSION_POOL_SIZE:-8}
* = host=$POOLER_SERVER_HOST port=$port

[pgbouncer]
listen_addr = *
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $conf/userlist.txt
auth_user = $POOLER_AUTH_USER
auth_query = SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = \$1 AND NOT usesuper
pool_mode = transaction
default_pool_size = ${POOLER_TRANSACTION_POOL_SIZE:-2}
max_client_conn = ${POOLER_MAX_CLIENT_CONNECTIONS:-5000}
server_reset_query = DISCARD ALL
; A stopped or deleted tenant's idle server connections go within a minute (default: 10).
server_idle_timeout = ${POOLER_SERVER_IDLE_TIMEOUT:-60}
ignore_startup_parameters = extra_float_digits
stats_users = $POOLER_AUTH_USER

[users]
; Its lookups (one per client login, in the client's database) take at most these server
; connections, idle ones moved between databases: without a cap, one idle per tenant database.
$POOLER_AUTH_USER = max_user_connections=${POOLER_AUTH_CONNECTIONS:-4}
INI
  chown -R postgres:postgres "$conf"
  exec setpriv --reuid=postgres --regid=postgres --init-groups pgbouncer "$conf/pgbouncer.ini" "$@"
fi
exec "$@"
