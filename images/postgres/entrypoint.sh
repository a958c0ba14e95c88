#!/bin/bash
# First start: initdb with POSTGRES_USER as superuser (password from POSTGRES_PASSWORD or
# POSTGRES_PASSWORD_FILE), then POSTGRES_DB. Every start: postgres as the postgres OS user,
# listening on the container's interfaces, password (SCRAM) authentication for TCP clients.
set -euo pipefail

from_file() { # VAR: VAR_FILE's content wins when set, like the official image
  local file_var="${1}_FILE"
  if [ -n "${!file_var:-}" ]; then export "$1"="$(<"${!file_var}")"; fi
}

if [ "${1:-}" = postgres ] || [ "${1:0:1}" = - ]; then
  [ "${1:-}" = postgres ] && shift
  from_file POSTGRES_PASSWORD
  from_file POSTGRES_USER
  from_file POSTGRES_DB
  user=${POSTGRES_USER:-postgres}
  mkdir -p "$PGDATA" /run/postgresql
  chown postgres:postgres "$PGDATA" /run/postgresql
  chmod 700 "$PGDATA"
  as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) is required}"
    pwfile=$(mktemp) && chown postgres "$pwfile" && printf '%s' "$POSTGRES_PASSWORD" >"$pwfile"
    as_postgres initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    db=${POSTGRES_DB:-$user}
    if [ "$db" != postgres ]; then
      as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
      as_postgres psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -q \
        -c "CREATE DATABASE \"$db\"" >/dev/null
      as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    fi
    echo "entrypoint: initialised $PGDATA (superuser $user, database $db)"
  fi
  exec setpriv --reuid=postgres --regid=postgres --init-groups \
    postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
