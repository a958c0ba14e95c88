#!/bin/sh
# Like the official image's entrypoint: `odoo ...` (or `-- ...`) runs the server with the database
# connection from HOST/PORT/USER/PASSWORD (PASSWORD_FILE wins when set); anything else is exec'd.
set -e
if [ -n "$PASSWORD_FILE" ]; then PASSWORD=$(cat "$PASSWORD_FILE"); export PASSWORD; fi
case "$1" in
  -- | odoo)
    shift
    exec python3 /opt/odoo-stand-in/odoo_stand_in.py "$@" \
      --db_host "${HOST:-db}" --db_port "${PORT:-5432}" --db_user "${USER:-odoo}" ;;
  -*)
    exec python3 /opt/odoo-stand-in/odoo_stand_in.py "$@" \
      --db_host "${HOST:-db}" --db_port "${PORT:-5432}" --db_user "${USER:-odoo}" ;;
  *) exec "$@" ;;
esac
