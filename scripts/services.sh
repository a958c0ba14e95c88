#!/usr/bin/env bash
# Installs (Debian packages) and starts the local services the tests and `npm start` use:
# PostgreSQL, Redis and the Docker engine (Swarm initialised on loopback), and `attr`. Loopback only.
# Idempotent: each step checks before it acts and says what it did.
#
# Env: ODOO_SAAS_PG_ROLE (default odoo_saas) / ODOO_SAAS_PG_PASSWORD (default odoo_saas, a local
#      development credential for a loopback-only server), REDIS_PORT (6379), SKIP_DOCKER=1.
set -euo pipefail

log() { printf '[services] %s\n' "$*" >&2; }
pg_role=${ODOO_SAAS_PG_ROLE:-odoo_saas}
pg_password=${ODOO_SAAS_PG_PASSWORD:-odoo_saas}
redis_port=${REDIS_PORT:-6379}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
ensure_packages() { # $@ = Debian package names; installs the missing ones
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated = 0 ]; then log "apt-get update"; as_root apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

wait_for() { # $1 = description, $2.. = command that succeeds once ready
  local what=$1; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  log "$what did not become ready"; return 1
}

# ---------------------------------------------------------------- PostgreSQL
ensure_postgres() {
  ensure_packages postgresql postgresql-contrib
  local version cluster=main
  version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version $cluster"; then
    log "creating PostgreSQL $version cluster '$cluster'"
    as_root pg_createcluster "$version" "$cluster" >/dev/null
  fi
  # Loopback only, whatever the package default says.
  as_root pg_conftool "$version" "$cluster" set listen_addresses 'localhost' >/dev/null 2>&1 || true
  if pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $4}' | grep -q online; then
    log "PostgreSQL $version/$cluster already running"
  else
    log "starting PostgreSQL $version/$cluster"
    as_root pg_ctlcluster "$version" "$cluster" start
  fi
  wait_for "PostgreSQL" as_root runuser -u postgres -- psql -Atqc 'select 1'
  # A role that can create databases and roles (what the tests and the tenant stacks need).
  as_root runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$pg_role') THEN
    CREATE ROLE "$pg_role" LOGIN SUPERUSER PASSWORD '$pg_password';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE "$pg_role" OWNER "$pg_role"'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$pg_role') \gexec
SQL
  log "PostgreSQL ready: postgres://$pg_role:***@127.0.0.1:5432/$pg_role"
}

# ---------------------------------------------------------------- Redis
ensure_redis() {
  ensure_packages redis-server
  if redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; then
    log "Redis already running on 127.0.0.1:$redis_port"
    return 0
  fi
  log "starting Redis on 127.0.0.1:$redis_port"
  mkdir -p /var/lib/odoo-saas-redis
  redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes \
    --dir /var/lib/odoo-saas-redis --appendonly yes --save '' \
    --logfile /var/lib/odoo-saas-redis/redis.log
  wait_for "Redis" redis-cli -h 127.0.0.1 -p "$redis_port" ping
  log "Redis ready: redis://127.0.0.1:$redis_port"
}

# ---------------------------------------------------------------- Docker engine
docker_cli() { /usr/bin/docker "$@"; } # Debian's client matches Debian's daemon API

ensure_docker() {
  ensure_packages docker.io
  if docker_cli info >/dev/null 2>&1; then
    log "Docker engine already running"
  else
    log "starting dockerd"
    mkdir -p /var/log/odoo-saas
    # No published ports leave loopback unless a test names another address. Every tenant has a
    # bridge network of its own: the default pools hold about 30; this one 1024 networks of 1022
    # addresses, as many as a Linux bridge has ports (docs/platform.md).
    nohup dockerd --ip 127.0.0.1 --default-address-pool base=10.192.0.0/10,size=22 \
      >/var/log/odoo-saas/dockerd.log 2>&1 &
    wait_for "dockerd" docker_cli info
  fi
  local swarm
  swarm=$(docker_cli info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo inactive)
  if [ "$swarm" = active ]; then
    log "Docker Swarm already active"
  else
    log "initialising Docker Swarm on loopback"
    docker_cli swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null
  fi
  log "Docker ready: $(docker_cli version --format 'engine {{.Server.Version}}')"
}

ensure_postgres
ensure_redis
# setfattr: the CephFS directory step sets the quota attribute with it (tested on a local fs).
ensure_packages attr
[ "${SKIP_DOCKER:-0}" = 1 ] || ensure_docker
