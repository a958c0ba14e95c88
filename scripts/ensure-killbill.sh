#!/usr/bin/env bash
# A real Kill Bill on loopback, without any container registry: the Kill Bill 0.22.26 server war
# and a Jetty 9.4 runner from Maven Central (cached), its schema (from the war's own jars) on a
# PostgreSQL cluster of its own, test mode on (the clock can be moved). Idempotent: a Kill Bill
# already answering is reused. Prints its URL on the last line of stdout; progress on stderr.
#
# Env: KILLBILL_PORT (8080), KILLBILL_DB_PORT (5499), ODOO_SAAS_KILLBILL_DIR (/var/lib/odoo-saas-killbill),
#      ODOO_SAAS_CACHE (~/.cache/odoo-saas), KILLBILL_FRESH=1 (stop a running one and start on an
#      empty database: for a suite that moves the clock, which is global to the server, so every
#      account an earlier run left would bill, dun and notify dead callbacks as it moves).
# Stop it: scripts/ensure-killbill.sh --stop. Its artifacts alone (the image build): --artifacts.
set -euo pipefail
log() { printf '[ensure-killbill] %s\n' "$*" >&2; }
opens_file=$(cd "$(dirname "${BASH_SOURCE[0]}")/../images/killbill" && pwd)/jvm-opens.args

VERSION=0.22.26
JETTY=9.4.58.v20250814
port=${KILLBILL_PORT:-8080}
db_port=${KILLBILL_DB_PORT:-5499}
home=${ODOO_SAAS_KILLBILL_DIR:-/var/lib/odoo-saas-killbill}
cache="${ODOO_SAAS_CACHE:-$HOME/.cache/odoo-saas}/killbill/$VERSION"
url="http://127.0.0.1:$port"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
as_postgres() { runuser -u postgres -- "$@"; }

# As the platform's health check: it answers and its own check passes (the endpoint's queue and
# pool checks fail under load, and a busy server is not one to start again).
healthy() {
  curl -sS --max-time 10 "$url/1.0/healthcheck" 2>/dev/null |
    grep -q '"org.killbill.billing.server.healthchecks.KillbillHealthcheck":{"healthy":true'
}

stop_server() {
  local pid
  pid=$(cat "$home/killbill.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
}

# -- artifacts (Maven Central, cached): the war, the Jetty runner, the schema from its jars
artifacts() {
command -v java >/dev/null || { log "java is required (Java 17)"; exit 1; }
if ! command -v mvn >/dev/null; then
  log "installing maven"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends maven >/dev/null
fi
mkdir -p "$cache"
fetch() { # $1 = group:artifact:version[:type], $2 = file name in the cache
  [ -s "$cache/$2" ] && return 0
  log "downloading $1 from Maven Central"
  mvn -q dependency:copy -Dartifact="$1" -DoutputDirectory="$cache" >&2
}
fetch "org.kill-bill.billing:killbill-profiles-killbill:$VERSION:war" "killbill-profiles-killbill-$VERSION.war"
fetch "org.eclipse.jetty:jetty-runner:$JETTY" "jetty-runner-$JETTY.jar"
war="$cache/killbill-profiles-killbill-$VERSION.war"

# -- schema, from the war's jars: util's PostgreSQL helpers first, then each module's ddl.sql
if [ ! -s "$cache/schema.sql" ]; then
  python3 - "$war" "$VERSION" >"$cache/schema.sql.tmp" <<'PY'
import io, sys, zipfile
war, version = sys.argv[1], sys.argv[2]
outer = zipfile.ZipFile(war)
def member(module, path):
    jar = zipfile.ZipFile(io.BytesIO(outer.read(f"WEB-INF/lib/killbill-{module}-{version}.jar")))
    return jar.read(path).decode()
print(member("util", "org/killbill/billing/util/ddl-postgresql.sql"))
for module in ["util", "account", "beatrix", "catalog", "entitlement", "invoice", "payment",
               "subscription", "tenant", "usage"]:
    print(member(module, f"org/killbill/billing/{module}/ddl.sql"))
PY
  mv "$cache/schema.sql.tmp" "$cache/schema.sql"
fi
}

if [ "${1:-}" = --artifacts ]; then # for images/build.sh: fetch them, print where they are
  artifacts
  echo "$cache"
  exit 0
fi

if [ "${1:-}" = --stop ]; then
  stop_server
  [ -d "$home/pgdata" ] && as_postgres "$pg_bin/pg_ctl" -D "$home/pgdata" -m fast stop >/dev/null 2>&1 || true
  log "stopped"
  exit 0
fi

fresh=${KILLBILL_FRESH:-0}
if [ "$fresh" = 1 ]; then
  stop_server
elif healthy; then
  log "Kill Bill already answers on $url"
  echo "$url"
  exit 0
fi
started=$SECONDS

artifacts

# -- its own PostgreSQL cluster on loopback
mkdir -p "$home"
chown postgres "$home"
if [ ! -s "$home/pgdata/PG_VERSION" ]; then
  log "creating Kill Bill's PostgreSQL cluster in $home/pgdata"
  as_postgres "$pg_bin/initdb" -D "$home/pgdata" -U killbill --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! as_postgres "$pg_bin/pg_ctl" -D "$home/pgdata" status >/dev/null 2>&1; then
  as_postgres "$pg_bin/pg_ctl" -D "$home/pgdata" -l "$home/postgres.log" -w \
    -o "-p $db_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$home -c fsync=off -c synchronous_commit=off" start >/dev/null
fi
psql_kb() { psql -h 127.0.0.1 -p "$db_port" -U killbill -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$fresh" = 1 ]; then
  log "starting on an empty database (KILLBILL_FRESH)"
  psql_kb -d postgres -c "DROP DATABASE IF EXISTS killbill WITH (FORCE)"
fi
if [ -z "$(psql_kb -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'killbill'")" ]; then
  log "loading Kill Bill's schema"
  psql_kb -d postgres -c "CREATE DATABASE killbill"
  PGOPTIONS='-c client_min_messages=warning' psql_kb -d killbill -f "$cache/schema.sql" >/dev/null
fi

# -- the server
mkdir -p "$home/osgi/bundles" "$home/tmp"
cat >"$home/killbill.properties" <<PROPS
org.killbill.dao.url=jdbc:postgresql://127.0.0.1:$db_port/killbill
org.killbill.dao.user=killbill
org.killbill.dao.password=killbill
org.killbill.billing.osgi.dao.url=jdbc:postgresql://127.0.0.1:$db_port/killbill
org.killbill.billing.osgi.dao.user=killbill
org.killbill.billing.osgi.dao.password=killbill
org.killbill.server.test.mode=true
org.killbill.server.multitenant=true
org.killbill.notificationq.main.sleep=100
org.killbill.persistent.bus.main.sleep=0
org.killbill.persistent.bus.external.inMemory=true
org.killbill.tenant.broadcast.rate=1s
org.killbill.osgi.root.dir=$home/osgi
org.killbill.osgi.bundle.install.dir=$home/osgi/bundles
PROPS
log "starting Kill Bill $VERSION on $url"
# Kill Bill 0.22 on Java 17 needs the packages the image's jvm-opens.args opens.
nohup java @"$opens_file" -Xmx1g \
  -Dorg.eclipse.jetty.util.log.class=org.eclipse.jetty.util.log.StdErrLog \
  -Dorg.killbill.server.properties="file://$home/killbill.properties" \
  -Djava.io.tmpdir="$home/tmp" -Djava.security.egd=file:/dev/./urandom \
  -jar "$cache/jetty-runner-$JETTY.jar" --host 127.0.0.1 --port "$port" "$war" \
  >"$home/killbill.log" 2>&1 &
echo $! >"$home/killbill.pid"

# A healthcheck of 200 does not prove a good start: the log must be free of these too.
for _ in $(seq 1 120); do
  if grep -qE "lifecycle failed to invoke lifecycle handler|InaccessibleObjectException" "$home/killbill.log"; then
    log "Kill Bill failed to start; see $home/killbill.log"; exit 1
  fi
  if healthy; then
    log "Kill Bill ready on $url in $((SECONDS - started))s (log: $home/killbill.log)"
    echo "$url"
    exit 0
  fi
  kill -0 "$(cat "$home/killbill.pid")" 2>/dev/null || { log "Kill Bill exited; see $home/killbill.log"; exit 1; }
  sleep 1
done
log "Kill Bill did not become healthy in 120 s; see $home/killbill.log"
exit 1
