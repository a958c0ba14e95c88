// The postgres exporter's own role (components/platform/postgres-monitor-role.ts) through the real
// engine against the real local PostgreSQL: it reads the server's activity and settings (what the
// rules need), is no superuser, cannot enter a tenant's database, follows a new password, and is
// gone with the stack.
import { Client } from "pg";
import { MONITOR_ROLE, PostgresMonitorRole } from "../components/platform/postgres-monitor-role";
import { scratchRunner } from "./helpers/scratch-runner";

const ADMIN = { host: "127.0.0.1", port: 5432, user: "odoo_saas", password: "odoo_saas" };
const TENANT_DB = `odoo_monrole_${process.pid}`;
const { runner, remove } = scratchRunner("monitor-role");

const target = (password: string) => ({
  project: "odoo-saas-monitor-role-test",
  stack: "role",
  secrets: [password],
  program: async () => {
    const role = new PostgresMonitorRole("role", {
      admin: { ...ADMIN, sslMode: "disable" },
      password,
    });
    return { id: role.id };
  },
});

async function sql(text: string, as = ADMIN, database = "postgres") {
  const c = new Client({ ...as, database });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}
const asMonitor = (password: string, text: string, database = "postgres") =>
  sql(text, { ...ADMIN, user: MONITOR_ROLE, password }, database);

beforeAll(async () => {
  await sql(`DROP ROLE IF EXISTS ${MONITOR_ROLE}`);
  await sql(`CREATE DATABASE ${TENANT_DB}`);
  await sql(`REVOKE ALL ON DATABASE ${TENANT_DB} FROM PUBLIC`); // as a tenant's is
});
afterAll(async () => {
  await runner.destroy(target("x")).catch(() => undefined);
  await sql(`DROP DATABASE IF EXISTS ${TENANT_DB} WITH (FORCE)`);
  await sql(`DROP ROLE IF EXISTS ${MONITOR_ROLE}`);
  remove();
});

describe("the exporter's role on the real PostgreSQL", () => {
  it("reads what the rules need, and nothing of a tenant", async () => {
    await runner.up(target("first-password"));
    // Every client connection counted (pg_monitor sees other roles' sessions) and the settings.
    const [activity] = await asMonitor(
      "first-password",
      "SELECT count(*)::int AS n, count(*) FILTER (WHERE usename IS NULL)::int AS hidden FROM pg_stat_activity WHERE backend_type = 'client backend'",
    );
    expect(activity.n).toBeGreaterThanOrEqual(1);
    expect(activity.hidden).toBe(0);
    expect(
      await asMonitor(
        "first-password",
        "SELECT setting FROM pg_settings WHERE name = 'max_connections'",
      ),
    ).toHaveLength(1);
    const [role] = await sql(
      `SELECT rolsuper, rolcreatedb, rolcreaterole, rolconnlimit,
              pg_has_role('${MONITOR_ROLE}', 'pg_monitor', 'member') AS monitor
         FROM pg_roles WHERE rolname = '${MONITOR_ROLE}'`,
    );
    expect(role).toEqual({
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolconnlimit: 3,
      monitor: true,
    });
    await expect(asMonitor("first-password", "SELECT 1", TENANT_DB)).rejects.toThrow(
      /permission denied for database/,
    );
  });

  it("a run again changes nothing; a new password replaces the old one", async () => {
    expect((await runner.up(target("first-password"))).changes.update ?? 0).toBe(0);
    expect((await runner.up(target("second-password"))).changes.update).toBe(1);
    await expect(asMonitor("first-password", "SELECT 1")).rejects.toThrow(
      /password authentication failed/,
    );
    expect(await asMonitor("second-password", "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("is dropped with the stack", async () => {
    await runner.destroy(target("second-password"));
    expect(await sql(`SELECT 1 FROM pg_roles WHERE rolname = '${MONITOR_ROLE}'`)).toHaveLength(0);
  });
});
