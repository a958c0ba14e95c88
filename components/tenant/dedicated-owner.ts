/**
 * Run once (psql, in the dedicated server's own image, on the data network) after a dedicated
 * PostgreSQL server first starts: the tenant's role as a plain login role — no superuser, no
 * CREATEDB, no CREATEROLE, so Odoo running as it gets no `COPY … PROGRAM` shell — owning the
 * tenant's database. Idempotent: an existing role is brought back to exactly that. The values
 * come from the environment (PGHOST, PGPASSWORD of `postgres`, TENANT_ROLE, TENANT_PASSWORD,
 * TENANT_DATABASE, TENANT_CONNECTION_LIMIT) and reach SQL only as psql variables, quoted by psql.
 */
export const DEDICATED_OWNER_SCRIPT = `set -euo pipefail
for i in $(seq 1 120); do pg_isready -q -h "$PGHOST" -U postgres && break; sleep 0.5; done
psql -h "$PGHOST" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \\
  -v role="$TENANT_ROLE" -v pw="$TENANT_PASSWORD" -v db="$TENANT_DATABASE" \\
  -v connlimit="$TENANT_CONNECTION_LIMIT" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'pw' CONNECTION LIMIT :connlimit;
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'role', 'UTF8')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \\gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'role') \\gexec
SQL
echo "dedicated server: $TENANT_ROLE (no superuser) owns $TENANT_DATABASE"
`;
