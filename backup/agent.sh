#!/usr/bin/env bash
# The backup agent's script, run inside the backup-agent image (restic + PostgreSQL 15 client) by
# backup/agent.ts, one verb per call. It lives beside the API (passed as the container's command)
# so the API and its script never disagree; the image only changes when the tools do.
#
# Environment: RESTIC_REPOSITORY, RESTIC_PASSWORD (+ the backend's variables); PGHOST, PGPORT,
# PGUSER, PGPASSWORD, PGDATABASE for the tenant's database; ADMIN_USER / ADMIN_PASSWORD for what
# only an administrator may do (create, rename, drop databases). The filestore volume is mounted
# at /filestore (read-only except for a restore).
# Output: one JSON object per line on stdout; progress and errors on stderr.
set -euo pipefail
verb=$1; shift
emit() { printf '%s\n' "$1"; }
summary() { grep '"message_type":"summary"' | tail -n1; }
psql_admin() { PGUSER=$ADMIN_USER PGPASSWORD=$ADMIN_PASSWORD psql -v ON_ERROR_STOP=1 -qAtX -d postgres "$@"; }
# What changes whenever the data does: per relation its file and its row counters (a TRUNCATE or a
# rewrite changes the file), every sequence's value, and when the counters were last reset or the
# server started (counters restart from zero after a crash and could count up to the same). The
# planner's statistics (rewritten by every autoanalyze) are not data.
FINGERPRINT="SELECT md5(concat_ws('|',
    (SELECT string_agg(c.oid || ':' || c.relfilenode || ':' || coalesce(s.n_tup_ins, 0) || ':' ||
            coalesce(s.n_tup_upd, 0) || ':' || coalesce(s.n_tup_del, 0), ',' ORDER BY c.oid)
       FROM pg_class c LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
      WHERE c.relkind IN ('r', 'p', 'm', 't') AND NOT c.relisshared
        AND c.oid NOT IN (SELECT unnest(ARRAY[oid, reltoastrelid]) FROM pg_class
                           WHERE oid IN ('pg_statistic'::regclass, 'pg_statistic_ext_data'::regclass))),
    (SELECT string_agg(schemaname || '.' || sequencename || '=' || coalesce(last_value, 0), ',' ORDER BY schemaname, sequencename)
       FROM pg_sequences),
    (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
    pg_postmaster_start_time()))"
# Every table's exact row count and every sequence's value, one line: what a copy must reproduce.
CONTENT="SELECT concat_ws('|',
    (SELECT string_agg(format('%s.%s=%s', schemaname, relname,
              (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', schemaname, relname), false, true, '')))[1]::text),
            ',' ORDER BY schemaname, relname) FROM pg_stat_user_tables),
    (SELECT string_agg(schemaname || '.' || sequencename || '=' || coalesce(last_value, 0), ',' ORDER BY schemaname, sequencename)
       FROM pg_sequences))"
# $1 staging database, $2 target, $3 role, $4 the name the old one is kept under until dropped:
# nobody may connect to the live database while it is renamed away (an Odoo still holding
# sessions is disconnected; it reconnects to the new one).
swap_in() {
  local staging=$1 target=$2 role=$3 old=$4 limit exists
  limit=$(psql_admin -c "SELECT coalesce((SELECT datconnlimit FROM pg_database WHERE datname = '$target'), -1)")
  exists=$(psql_admin -c "SELECT count(*) FROM pg_database WHERE datname = '$target'")
  psql_admin -c "ALTER DATABASE \"$staging\" CONNECTION LIMIT $limit" \
             -c "REVOKE ALL ON DATABASE \"$staging\" FROM PUBLIC" \
             -c "GRANT CONNECT, TEMPORARY ON DATABASE \"$staging\" TO \"$role\""
  if [ "$exists" = 1 ]; then
    psql_admin -c "ALTER DATABASE \"$target\" WITH ALLOW_CONNECTIONS false" \
               -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$target'" >/dev/null
    psql_admin -1 -c "ALTER DATABASE \"$target\" RENAME TO \"$old\"" \
                  -c "ALTER DATABASE \"$staging\" RENAME TO \"$target\""
  else
    psql_admin -c "ALTER DATABASE \"$staging\" RENAME TO \"$target\""
  fi
}

case $verb in
init) # Creates the repository once (format 2: compressed); a no-op when it exists.
  if restic cat config >/dev/null 2>&1; then emit '{"event":"exists"}'
  else restic init --repository-version 2 >&2; emit '{"event":"created"}'; fi ;;

backup) # $1 tenant, $2 backup id, $3 the last good backup's database snapshot and $4 its
         # fingerprint ("-" when none), rest: tags. The database and the filestore, a snapshot each,
         # taken side by side; the dump is read back from the repository before anything is said.
  tenant=$1; id=$2; last_db=$3; last_fingerprint=$4; shift 4
  tags=(--tag "tenant=$tenant" --tag "backup=$id")
  for t in "$@"; do tags+=(--tag "$t"); done
  if [ -n "${BACKUP_TIME:-}" ]; then tags+=(--time "$BACKUP_TIME"); fi # an injected clock (tests)
  modules="SELECT coalesce(json_object_agg(name, latest_version), '{}') FROM ir_module_module WHERE state = 'installed'"
  if ! psql -qAtX -c 'SELECT 1 FROM ir_module_module LIMIT 0' >/dev/null 2>&1; then modules="SELECT '{}'::json"; fi
  info=$(psql -v ON_ERROR_STOP=1 -qAtX -c "SELECT json_build_object('pgVersion', current_setting('server_version'),
    'modules', ($modules), 'fingerprint', ($FINGERPRINT))")
  emit "{\"event\":\"database-info\",\"info\":$info}"
  current=$(printf '%s' "$info" | sed -n 's/.*"fingerprint" *: *"\([0-9a-f]*\)".*/\1/p')
  if [ "$last_db" != - ] && [ "$current" = "$last_fingerprint" ]; then
    # Nothing was written since the last good backup: its verified dump stands for this one.
    emit "{\"event\":\"database\",\"reused\":\"$last_db\"}"
  else
    # Uncompressed custom format: restic deduplicates and compresses it; a compressed dump would
    # never deduplicate against the previous one.
    (pg_dump --format=custom --compress=0 | restic backup --json --stdin --stdin-filename db.dump \
       --host "$tenant" "${tags[@]}" --tag part=database | summary >/tmp/database.json) &
    dumping=$!
  fi
  restic backup --json --host "$tenant" "${tags[@]}" --tag part=filestore /filestore | summary >/tmp/filestore.json
  if [ -n "${dumping:-}" ]; then
    wait "$dumping"
    emit "{\"event\":\"database\",\"summary\":$(cat /tmp/database.json)}"
    set +o pipefail # pg_restore --list stops after the table of contents; restic dump then sees EPIPE
    short=$(sed -n 's/.*"snapshot_id":"\([0-9a-f]*\)".*/\1/p' /tmp/database.json)
    restic dump "$short" /db.dump | pg_restore --list >/dev/null
    status=("${PIPESTATUS[@]}")
    set -o pipefail
    [ "${status[1]}" = 0 ] || { echo "pg_restore --list failed on snapshot $short" >&2; exit 1; }
  fi
  emit "{\"event\":\"filestore\",\"summary\":$(cat /tmp/filestore.json)}"
  # restic's summary gives short ids; the full ones never collide across a large repository.
  emit "{\"event\":\"snapshots\",\"snapshots\":$(restic snapshots --json --tag "backup=$id")}" ;;

verify) # $1 database snapshot, $2 filestore snapshot: both read back from the repository.
  set +o pipefail # pg_restore --list stops after the table of contents; restic dump then sees EPIPE
  restic dump "$1" /db.dump | pg_restore --list >/dev/null
  status=("${PIPESTATUS[@]}")
  set -o pipefail
  [ "${status[1]}" = 0 ] || { echo "pg_restore --list failed on snapshot $1" >&2; exit 1; }
  entries=$(restic ls --json "$2" | grep -c '"struct_type":"node"' || true)
  emit "{\"event\":\"verified\",\"filestoreEntries\":$entries}" ;;

restore) # $1 db snapshot, $2 filestore snapshot, $3 source db name, $4 target db, $5 role, $6 op id
  dbsnap=$1; filesnap=$2; source_db=$3; target=$4; role=$5; op=$6
  staging="${target:0:40}_restore_${op:0:8}"; old="${target:0:40}_old_${op:0:8}"
  psql_admin -c "DROP DATABASE IF EXISTS \"$staging\" WITH (FORCE)"
  psql_admin -c "CREATE DATABASE \"$staging\" OWNER \"$role\" TEMPLATE template0 ENCODING 'UTF8'"
  restic dump "$dbsnap" /db.dump | PGUSER=$ADMIN_USER PGPASSWORD=$ADMIN_PASSWORD \
    pg_restore --exit-on-error --no-owner --no-privileges --role="$role" -d "$staging"
  emit '{"event":"database-restored"}'
  # The files go next to the live ones first; swapped in only once the database is.
  rm -rf /filestore/.restore /filestore/.previous
  restic restore "$filesnap" --target /filestore/.restore >&2
  src=/filestore/.restore/filestore
  if [ "$source_db" != "$target" ] && [ -d "$src/filestore/$source_db" ]; then
    rm -rf "$src/filestore/$target"
    mv "$src/filestore/$source_db" "$src/filestore/$target"
  fi
  emit '{"event":"filestore-restored"}'
  swap_in "$staging" "$target" "$role" "$old"
  emit '{"event":"database-swapped"}'
  mkdir -p /filestore/.previous
  find /filestore -mindepth 1 -maxdepth 1 ! -name .restore ! -name .previous -exec mv -t /filestore/.previous {} +
  find "$src" -mindepth 1 -maxdepth 1 -exec mv -t /filestore {} +
  rm -rf /filestore/.restore /filestore/.previous
  psql_admin -c "DROP DATABASE IF EXISTS \"$old\" WITH (FORCE)"
  emit '{"event":"restored"}' ;;

drill) # $1 db snapshot, $2 filestore snapshot, $3 scratch database. The backup restored into
       # a scratch database and the scratch volume at /filestore, checked, the database dropped
       # whatever happens: does the database open (its tables, Odoo's installed modules), and are
       # the files restored as many as the snapshot lists?
  dbsnap=$1; filesnap=$2; scratch=$3
  trap 'psql_admin -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
  psql_admin -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)"
  psql_admin -c "CREATE DATABASE \"$scratch\" TEMPLATE template0 ENCODING 'UTF8'"
  restic dump "$dbsnap" /db.dump | PGUSER=$ADMIN_USER PGPASSWORD=$ADMIN_PASSWORD \
    pg_restore --exit-on-error --no-owner --no-privileges -d "$scratch"
  in_scratch() { PGUSER=$ADMIN_USER PGPASSWORD=$ADMIN_PASSWORD psql -v ON_ERROR_STOP=1 -qAtX -d "$scratch" -c "$1"; }
  tables=$(in_scratch "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
  modules=0
  if [ "$(in_scratch "SELECT to_regclass('public.ir_module_module') IS NOT NULL")" = t ]; then
    modules=$(in_scratch "SELECT count(*) FROM ir_module_module WHERE state = 'installed'")
  fi
  emit "{\"event\":\"database-opened\",\"tables\":$tables,\"modules\":$modules}"
  restic restore "$filesnap" --target /filestore >&2
  expected=$(restic ls --json "$filesnap" | grep -c '"type":"file"' || true)
  restored=$(find /filestore/filestore -type f | wc -l)
  emit "{\"event\":\"drilled\",\"tables\":$tables,\"modules\":$modules,\"files\":$restored,\"snapshotFiles\":$expected}" ;;

restore-files) # $1 filestore snapshot: the files alone into the mounted volume (a move between
               # nodes: the database stays where it is), beside what is there, then swapped in.
  rm -rf /filestore/.restore /filestore/.previous
  restic restore "$1" --target /filestore/.restore >&2
  mkdir -p /filestore/.previous
  find /filestore -mindepth 1 -maxdepth 1 ! -name .restore ! -name .previous -exec mv -t /filestore/.previous {} +
  find /filestore/.restore/filestore -mindepth 1 -maxdepth 1 -exec mv -t /filestore {} +
  rm -rf /filestore/.restore /filestore/.previous
  emit "{\"event\":\"files-restored\",\"files\":$(find /filestore -type f | wc -l)}" ;;

sync-files) # $1 the snapshot the mounted volume holds (restored there by restore-files), $2 a newer
            # one: only what differs is restored, what the newer one lacks removed (a move's copy
            # while its Odoo is stopped; restic 0.14 has no incremental restore of its own).
  rm -rf /filestore/.restore
  restic diff "$1" "$2" | sed -n 's/^\([-+MTU]\)    \(\/filestore\/.*\)$/\1 \2/p' >/tmp/changes
  includes=()
  while read -r modifier path; do
    case $modifier in
      -) rm -rf -- "$path" ;;
      *) case $path in */) mkdir -p -- "$path" ;; *) includes+=(--include "$path") ;; esac ;;
    esac
  done </tmp/changes
  if [ ${#includes[@]} -gt 0 ]; then
    restic restore "$2" --target /filestore/.restore "${includes[@]}" >&2
    while read -r modifier path; do
      case $modifier$path in
        -* | */) ;;
        *) mkdir -p -- "$(dirname -- "$path")"; mv -f -- "/filestore/.restore$path" "$path" ;;
      esac
    done </tmp/changes
  fi
  rm -rf /filestore/.restore
  emit "{\"event\":\"files-restored\",\"changes\":$(wc -l </tmp/changes),\"files\":$(find /filestore -type f | wc -l)}" ;;

copy-database) # $1 role, $2 operation id. The tenant's database from the server SRC_* names to
               # the one PG* names (same database name), as a staging copy whose every table's row
               # count and every sequence match the source's, then swapped in. Nothing may write
               # the source meanwhile (its Odoo is stopped).
  role=$1; op=$2; db=$PGDATABASE
  staging="${db:0:40}_copy_${op:0:8}"; old="${db:0:40}_old_${op:0:8}"
  from_source() { PGHOST=$SRC_HOST PGPORT=$SRC_PORT PGUSER=$SRC_ADMIN_USER PGPASSWORD=$SRC_ADMIN_PASSWORD "$@"; }
  psql_admin -c "DROP DATABASE IF EXISTS \"$staging\" WITH (FORCE)"
  psql_admin -c "CREATE DATABASE \"$staging\" OWNER \"$role\" TEMPLATE template0 ENCODING 'UTF8'"
  from_source pg_dump --format=custom --compress=0 -d "$db" | PGUSER=$ADMIN_USER PGPASSWORD=$ADMIN_PASSWORD \
    pg_restore --exit-on-error --no-owner --no-privileges --role="$role" -d "$staging"
  emit '{"event":"database-copied"}'
  want=$(from_source psql -v ON_ERROR_STOP=1 -qAtX -d "$db" -c "$CONTENT")
  got=$(PGUSER=$ADMIN_USER PGPASSWORD=$ADMIN_PASSWORD psql -v ON_ERROR_STOP=1 -qAtX -d "$staging" -c "$CONTENT")
  if [ "$want" != "$got" ]; then
    echo "the copy differs from the source: source $want; copy $got" >&2
    psql_admin -c "DROP DATABASE IF EXISTS \"$staging\" WITH (FORCE)"; exit 1
  fi
  counts=$(printf '%s' "$want" | cut -d'|' -f1 | tr ',' '\n' | awk -F= 'NF > 1 {n++; s += $NF} END {printf "%d %d", n, s}')
  emit "{\"event\":\"database-verified\",\"tables\":${counts% *},\"rows\":${counts#* }}"
  swap_in "$staging" "$db" "$role" "$old"
  psql_admin -c "DROP DATABASE IF EXISTS \"$old\" WITH (FORCE)"
  fingerprint=$(PGUSER=$ADMIN_USER PGPASSWORD=$ADMIN_PASSWORD psql -v ON_ERROR_STOP=1 -qAtX -d "$db" -c "$FINGERPRINT")
  emit "{\"event\":\"copied\",\"fingerprint\":\"$fingerprint\"}" ;;

fingerprint) # The database's fingerprint (PG* names it, as its administrator).
  emit "{\"event\":\"fingerprint\",\"fingerprint\":\"$(PGUSER=$ADMIN_USER PGPASSWORD=$ADMIN_PASSWORD psql -v ON_ERROR_STOP=1 -qAtX -c "$FINGERPRINT")\"}" ;;

measure) # $1 the plan's internal-user cap ("-": none), $2 its storage cap in bytes ("-": none).
         # Metered usage (api/services/usage-meter.ts): internal users as Odoo counts them, the
         # database's size and the filestore's (apparent bytes, as Odoo's file_size), read without
         # Odoo. Then the plan's blocking limits put in force (or lifted) inside the database:
         # with a user cap no further internal user can be made or activated; with the storage
         # full no attachment can be added. Both raise Odoo-readable errors; reading stays open.
  users_cap=$1; storage_cap=$2
  as_admin() { PGUSER=$ADMIN_USER PGPASSWORD=$ADMIN_PASSWORD psql -v ON_ERROR_STOP=1 -qAtX "$@"; }
  if [ "$(as_admin -c "SELECT to_regclass('public.res_users') IS NOT NULL")" != t ]; then
    echo "the database has no res_users table: Odoo has not initialised it" >&2; exit 1
  fi
  users=$(as_admin -c "SELECT count(*) FROM res_users WHERE active AND NOT share")
  database=$(as_admin -c "SELECT pg_database_size(current_database())")
  files=$(du -sb /filestore | cut -f1)
  if [ "$users_cap" = - ]; then
    as_admin -c "DROP TRIGGER IF EXISTS odoo_saas_user_cap ON res_users; DROP FUNCTION IF EXISTS odoo_saas_user_cap()"
  else
    as_admin <<SQL
CREATE OR REPLACE FUNCTION odoo_saas_user_cap() RETURNS trigger LANGUAGE plpgsql AS \$f\$
BEGIN
  IF NEW.active AND NOT NEW.share AND (TG_OP = 'INSERT' OR NOT (OLD.active AND NOT OLD.share))
     AND (SELECT count(*) FROM res_users WHERE active AND NOT share AND id <> NEW.id) >= $users_cap THEN
    RAISE EXCEPTION 'Your plan allows $users_cap internal users: archive one or choose a larger plan'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END \$f\$;
CREATE OR REPLACE TRIGGER odoo_saas_user_cap BEFORE INSERT OR UPDATE OF active, share ON res_users
  FOR EACH ROW EXECUTE FUNCTION odoo_saas_user_cap();
SQL
  fi
  full=false
  if [ "$storage_cap" != - ] && [ $((database + files)) -ge "$storage_cap" ]; then full=true; fi
  if [ "$(as_admin -c "SELECT to_regclass('public.ir_attachment') IS NOT NULL")" = t ]; then
    if [ $full = true ]; then
      as_admin <<SQL
CREATE OR REPLACE FUNCTION odoo_saas_storage_full() RETURNS trigger LANGUAGE plpgsql AS \$f\$
BEGIN
  RAISE EXCEPTION 'Your plan''s storage is full: delete files or choose a larger plan'
    USING ERRCODE = 'check_violation';
END \$f\$;
CREATE OR REPLACE TRIGGER odoo_saas_storage_full BEFORE INSERT ON ir_attachment
  FOR EACH ROW WHEN (coalesce(NEW.file_size, 0) > 0) EXECUTE FUNCTION odoo_saas_storage_full();
SQL
    else
      as_admin -c "DROP TRIGGER IF EXISTS odoo_saas_storage_full ON ir_attachment; DROP FUNCTION IF EXISTS odoo_saas_storage_full()"
    fi
  fi
  emit "{\"event\":\"measured\",\"users\":$users,\"databaseBytes\":$database,\"filestoreBytes\":$files,\"storageBlocked\":$full}" ;;

dump-sql) # $1 db snapshot: the database as plain SQL (Odoo's dump.sql), on stdout.
  restic dump "$1" /db.dump | pg_restore --no-owner --no-privileges -f - ;;

dump-files) # $1 filestore snapshot, $2 database name: that database's filestore, as a tar on stdout.
  restic dump "$1" "/filestore/filestore/$2" ;;

forget) # $1 tenant, rest: restic's keep flags. Space is freed by a later prune.
  tenant=$1; shift
  emit "{\"event\":\"forgotten\",\"groups\":$(restic forget --json --tag "tenant=$tenant" --group-by host,paths "$@")}" ;;

forget-ids) # snapshot ids dropped for good (a deleted tenant whose retention has ended)
  restic forget "$@" >&2; emit '{"event":"forgotten"}' ;;

prune) restic prune >&2; emit '{"event":"pruned"}' ;;

check) # $1 the share of pack files read back, e.g. 5%
  restic check --read-data-subset "$1" >&2; emit '{"event":"checked"}' ;;

*) echo "unknown verb $verb" >&2; exit 2 ;;
esac
