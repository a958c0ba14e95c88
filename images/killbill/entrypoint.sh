#!/bin/bash
# Starts Kill Bill against the PostgreSQL named by KILLBILL_DB_HOST/PORT/NAME/USER and
# KILLBILL_DB_PASSWORD (or KILLBILL_DB_PASSWORD_FILE, a Swarm secret file): waits for it, loads
# Kill Bill's schema the first time (the user must be the server's superuser: the schema creates an
# event trigger), writes the properties, and runs the server with the JVM flags Java 17 needs.
# KILLBILL_TEST_MODE=true turns on the test clock; KILLBILL_JAVA_OPTS adds JVM options (-Xmx1g by
# default).
set -euo pipefail
if [ -n "${KILLBILL_DB_PASSWORD_FILE:-}" ]; then KILLBILL_DB_PASSWORD=$(<"$KILLBILL_DB_PASSWORD_FILE"); fi
: "${KILLBILL_DB_HOST:?KILLBILL_DB_HOST is required}" "${KILLBILL_DB_PASSWORD:?KILLBILL_DB_PASSWORD (or _FILE) is required}"
export PGHOST=$KILLBILL_DB_HOST PGPORT=${KILLBILL_DB_PORT:-5432} PGUSER=${KILLBILL_DB_USER:-killbill}
export PGPASSWORD=$KILLBILL_DB_PASSWORD
db=${KILLBILL_DB_NAME:-killbill}
home=/var/lib/killbill

for i in $(seq 1 120); do pg_isready -q -d postgres && break; sleep 1; done
pg_isready -q -d postgres || { echo "entrypoint: PostgreSQL at $PGHOST:$PGPORT does not answer" >&2; exit 1; }
if [ -z "$(psql -qAtX -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
  psql -qAtX -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$db\""
fi
if [ -z "$(psql -qAtX -d "$db" -c "SELECT 1 FROM pg_tables WHERE tablename = 'accounts'")" ]; then
  echo "entrypoint: loading Kill Bill's schema into $db"
  PGOPTIONS='-c client_min_messages=warning' psql -qAtX -v ON_ERROR_STOP=1 -1 -d "$db" -f schema.sql >/dev/null
fi

mkdir -p "$home/osgi/bundles" "$home/tmp"
url="jdbc:postgresql://$PGHOST:$PGPORT/$db"
cat >"$home/killbill.properties" <<PROPS
org.killbill.dao.url=$url
org.killbill.dao.user=$PGUSER
org.killbill.dao.password=$PGPASSWORD
org.killbill.billing.osgi.dao.url=$url
org.killbill.billing.osgi.dao.user=$PGUSER
org.killbill.billing.osgi.dao.password=$PGPASSWORD
org.killbill.server.test.mode=${KILLBILL_TEST_MODE:-false}
org.killbill.server.multitenant=true
org.killbill.notificationq.main.sleep=100
org.killbill.persistent.bus.main.sleep=0
org.killbill.tenant.broadcast.rate=1s
org.killbill.osgi.root.dir=$home/osgi
org.killbill.osgi.bundle.install.dir=$home/osgi/bundles
PROPS
chmod 600 "$home/killbill.properties"
unset PGPASSWORD KILLBILL_DB_PASSWORD

# Kill Bill 0.22 on Java 17 needs the packages jvm-opens.args opens (a smaller set starts, then
# fails later).
# shellcheck disable=SC2086 # KILLBILL_JAVA_OPTS is a list of JVM options
exec java @/opt/killbill/jvm-opens.args ${KILLBILL_JAVA_OPTS:--Xmx1g} \
  -Dorg.eclipse.jetty.util.log.class=org.eclipse.jetty.util.log.StdErrLog \
  -Dorg.killbill.server.properties="file://$home/killbill.properties" \
  -Djava.io.tmpdir="$home/tmp" -Djava.security.egd=file:/dev/./urandom \
  -jar jetty-runner.jar --host 0.0.0.0 --port 8080 killbill.war
