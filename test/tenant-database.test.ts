// The tenant database's dynamic provider (components/tenant/tenant-database.ts) through the real
// engine against the real local PostgreSQL: create, no-op, update, template clone, a failure
// midway, changes made out of band (refresh), delete with sessions open.
import { Client } from "pg";
import { scratchRunner } from "./helpers/scratch-runner";
import { TenantDatabase } from "../components/tenant/tenant-database";

const ADMIN = { host: "127.0.0.1", port: 5432, user: "odoo_saas", password: "odoo_saas" };
const suffix = `${process.pid}`;
const ROLE = `odoo_tdb_${suffix}`;
const DB = `odoo_tdb_${suffix}`;
const TEMPLATE = `odoo_tdb_tpl_${suffix}`;
const TEMPLATE_OWNER = `odoo_tdb_tplowner_${suffix}`;

const { runner, remove } = scratchRunner("tdb", 2);

interface Inputs {
  password: string;
  connectionLimit: number;
  template?: string;
  /** Another name than the tenant's (a rename, which must be refused). */
  database?: string;
}
const target = (inputs: Inputs) => ({
  project: "odoo-saas-tdb-test",
  stack: "db",
  secrets: [inputs.password],
  program: async () => {
    const db = new TenantDatabase("db", {
      admin: { ...ADMIN, sslMode: "disable" },
      role: ROLE,
      password: inputs.password,
      database: inputs.database ?? DB,
      template: inputs.template,
      connectionLimit: inputs.connectionLimit,
    });
    return { id: db.id };
  },
});

async function sql(text: string, params: unknown[] = [], as = ADMIN, database = "postgres") {
  const c = new Client({ ...as, database });
  await c.connect();
  try {
    return (await c.query(text, params)).rows;
  } finally {
    await c.end();
  }
}
const canLogin = (password: string, database = DB) =>
  sql("SELECT current_user AS u", [], { ...ADMIN, user: ROLE, password }, database).then(
    (r) => r[0].u === ROLE,
    () => false,
  );

beforeAll(async () => {
  await sql(`DROP DATABASE IF EXISTS ${TEMPLATE}`);
  await sql(`DROP ROLE IF EXISTS ${TEMPLATE_OWNER}`);
  await sql(`CREATE ROLE ${TEMPLATE_OWNER}`);
  await sql(`CREATE DATABASE ${TEMPLATE} OWNER ${TEMPLATE_OWNER}`);
  // An "initialised" template whose objects belong to its owner, as a template build leaves them.
  await sql(
    `SET ROLE ${TEMPLATE_OWNER};
     CREATE TABLE ir_module_module (id serial PRIMARY KEY, name text);
     CREATE TABLE res_partner (id serial PRIMARY KEY, name text);
     CREATE SEQUENCE free_standing_seq;
     CREATE VIEW partner_names AS SELECT name FROM res_partner;
     CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1';
     INSERT INTO ir_module_module (name) VALUES ('base');`,
    [],
    ADMIN,
    TEMPLATE,
  );
});

afterAll(async () => {
  await runner.destroy(target({ password: "x", connectionLimit: 1 })).catch(() => undefined);
  await sql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await sql(`DROP ROLE IF EXISTS ${ROLE}`);
  await sql(`DROP DATABASE IF EXISTS ${TEMPLATE}`);
  await sql(`DROP ROLE IF EXISTS ${TEMPLATE_OWNER}`);
  remove();
});

describe("TenantDatabase on the real PostgreSQL", () => {
  it("a failure midway (a template that does not exist) leaves nothing a re-run cannot finish", async () => {
    await expect(
      runner.up(
        target({ password: "first-password", connectionLimit: 5, template: "no_such_template" }),
      ),
    ).rejects.toThrow(/no_such_template/);
    expect(await sql("SELECT 1 FROM pg_database WHERE datname = $1", [DB])).toHaveLength(0);
  });

  it("create: a clone of the template, owned throughout by the tenant role, closed to PUBLIC", async () => {
    const up = await runner.up(
      target({ password: "first-password", connectionLimit: 5, template: TEMPLATE }),
    );
    expect(up.changes.create).toBe(1);
    expect(await canLogin("first-password")).toBe(true);
    const [db] = await sql(
      `SELECT pg_get_userbyid(datdba) AS owner, datconnlimit,
              has_database_privilege('public', datname, 'CONNECT') AS public_connect
         FROM pg_database WHERE datname = $1`,
      [DB],
    );
    expect(db).toEqual({ owner: ROLE, datconnlimit: 5, public_connect: false });
    const [role] = await sql("SELECT rolconnlimit, rolsuper FROM pg_roles WHERE rolname = $1", [
      ROLE,
    ]);
    expect(role).toEqual({ rolconnlimit: 5, rolsuper: false });
    // The tenant role can write every table of its clone (and use its sequences and functions).
    const asTenant = { ...ADMIN, user: ROLE, password: "first-password" };
    const owners = await sql(
      `SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'`,
      [],
      asTenant,
      DB,
    );
    expect(owners).toEqual([{ owner: ROLE }]);
    await sql(
      `INSERT INTO res_partner (name) VALUES ('x'); UPDATE ir_module_module SET name = name;
       SELECT nextval('free_standing_seq'), one(); ALTER TABLE res_partner ADD COLUMN email text;`,
      [],
      asTenant,
      DB,
    );
    // The template itself still belongs to its owner.
    const [tpl] = await sql(
      "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1",
      [TEMPLATE],
    );
    expect(tpl.owner).toBe(TEMPLATE_OWNER);
  });

  it("an unchanged re-run changes nothing", async () => {
    const up = await runner.up(
      target({ password: "first-password", connectionLimit: 5, template: TEMPLATE }),
    );
    expect(up.changes).toEqual({ same: 2 });
  });

  it("password rotation and a new connection limit are updates in place", async () => {
    await sql(`INSERT INTO res_partner (name) VALUES ('kept')`, [], ADMIN, DB);
    const up = await runner.up(
      target({ password: "second-password", connectionLimit: 8, template: TEMPLATE }),
    );
    expect(up.changes).toEqual({ same: 1, update: 1 });
    expect(await canLogin("second-password")).toBe(true);
    expect(await canLogin("first-password")).toBe(false);
    const [role] = await sql("SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", [ROLE]);
    expect(role.rolconnlimit).toBe(8);
    expect(
      await sql("SELECT name FROM res_partner WHERE name = 'kept'", [], ADMIN, DB),
    ).toHaveLength(1);
  });

  it("a new name would drop the database: refused with the reason, the data untouched", async () => {
    await expect(
      runner.up(
        target({
          password: "second-password",
          connectionLimit: 8,
          template: TEMPLATE,
          database: `${DB}_renamed`,
        }),
      ),
    ).rejects.toThrow(/would be replaced by .*_renamed.*which drops its data: refused/);
    expect(
      await sql("SELECT name FROM res_partner WHERE name = 'kept'", [], ADMIN, DB),
    ).toHaveLength(1);
    expect(await sql("SELECT 1 FROM pg_database WHERE datname = $1", [`${DB}_renamed`])).toEqual(
      [],
    );
  });

  it("refresh sees changes made out of band, and up puts them right", async () => {
    const stable = target({ password: "second-password", connectionLimit: 8, template: TEMPLATE });
    await sql(`ALTER ROLE ${ROLE} PASSWORD 'changed-by-hand' CONNECTION LIMIT 99`);
    await sql(`GRANT CONNECT ON DATABASE ${DB} TO PUBLIC`);
    expect(await runner.refresh(stable)).toEqual({ same: 1, update: 1 });
    expect((await runner.up(stable)).changes).toEqual({ same: 1, update: 1 });
    expect(await canLogin("second-password")).toBe(true);
    const [db] = await sql(
      "SELECT has_database_privilege('public', datname, 'CONNECT') AS c FROM pg_database WHERE datname = $1",
      [DB],
    );
    expect(db.c).toBe(false);
    expect((await runner.up(stable)).changes).toEqual({ same: 2 });

    // A database dropped by hand: refresh forgets it, up creates it again.
    await sql(`DROP DATABASE ${DB} WITH (FORCE)`);
    expect(await runner.refresh(stable)).toEqual({ same: 1, delete: 1 });
    expect((await runner.up(stable)).changes).toEqual({ same: 1, create: 1 });
    expect(await canLogin("second-password")).toBe(true);
  });

  it("delete ends open sessions, then drops the database and the role", async () => {
    const session = new Client({ ...ADMIN, user: ROLE, password: "second-password", database: DB });
    await session.connect();
    session.on("error", () => undefined); // it is terminated by the delete
    const destroyed = await runner.destroy(
      target({ password: "second-password", connectionLimit: 8 }),
    );
    expect(destroyed).toEqual({ delete: 2 });
    await session.end().catch(() => undefined);
    expect(await sql("SELECT 1 FROM pg_database WHERE datname = $1", [DB])).toHaveLength(0);
    expect(await sql("SELECT 1 FROM pg_roles WHERE rolname = $1", [ROLE])).toHaveLength(0);
  });
});
