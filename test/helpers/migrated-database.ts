// A database of its own on the local PostgreSQL, with the API's migrations applied: what the
// store-level suites run on. Dropped (sessions and all) afterwards.
import { Client, Pool } from "pg";
import { migrate } from "../../api/store/migrations";

const PG = "postgres://odoo_saas:odoo_saas@127.0.0.1:5432";

async function asAdmin(sql: string): Promise<void> {
  const admin = new Client(`${PG}/odoo_saas`);
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

export function migratedDatabase(name: string) {
  const database = `odoo_saas_${name}_test_${process.pid}`;
  return {
    async create(): Promise<Pool> {
      await asAdmin(`CREATE DATABASE ${database}`);
      const pool = new Pool({ connectionString: `${PG}/${database}` });
      await migrate(pool);
      return pool;
    },
    async drop(pool?: Pool): Promise<void> {
      await pool?.end();
      await asAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
}
