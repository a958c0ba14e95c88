import * as pulumi from "@pulumi/pulumi";

/** How the control plane reaches a PostgreSQL server as an administrator. */
export interface AdminConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  sslMode: "disable" | "require" | "verify-ca" | "verify-full";
}

export interface TenantDatabaseArgs {
  admin: pulumi.Input<AdminConnection>;
  /** Login role that owns the database (and, for a clone, every object in it). */
  role: pulumi.Input<string>;
  password: pulumi.Input<string>;
  database: pulumi.Input<string>;
  /** A pre-initialised database to clone; only read at creation. */
  template?: pulumi.Input<string | undefined>;
  /** For the role and the database alike. */
  connectionLimit: pulumi.Input<number>;
}

/** What the provider stores (and reads back on refresh). */
interface State {
  admin: AdminConnection;
  role: string;
  password: string;
  database: string;
  template?: string;
  connectionLimit: number;
  /** false when PUBLIC may connect to the database (reset by the next update). */
  publicRevoked?: boolean;
}

// The provider's code is serialized into the state and run by `pulumi-resource-pulumi-nodejs`:
// it may only reach modules through `require` inside the functions, never through imports.

export async function withClient<T>(
  admin: AdminConnection,
  database: string,
  fn: (client: import("pg").Client) => Promise<T>,
): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- serialized: no imports
  const { Client } = require("pg") as typeof import("pg");
  const connect = async () => {
    const client = new Client({
      host: admin.host,
      port: admin.port,
      user: admin.user,
      password: admin.password,
      database,
      ssl:
        admin.sslMode === "disable"
          ? false
          : { rejectUnauthorized: admin.sslMode === "verify-full" },
      connectionTimeoutMillis: 10_000,
    });
    await client.connect();
    return client;
  };
  // A server that is (re)starting refuses connections for a moment: wait up to a minute for it.
  let client: import("pg").Client;
  for (let attempt = 1; ; attempt++) {
    try {
      client = await connect();
      break;
    } catch (e) {
      const starting = /ECONNREFUSED|ECONNRESET|starting up|shutting down|Connection terminated/;
      if (attempt >= 30 || !starting.test(String(e))) throw e;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates or adjusts everything; safe to run again after a failure at any step. */
async function converge(s: State, creating: boolean): Promise<void> {
  await withClient(s.admin, "postgres", async (c) => {
    const role = c.escapeIdentifier(s.role);
    const db = c.escapeIdentifier(s.database);
    const password = c.escapeLiteral(s.password);
    const exists = await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [s.role]);
    await c.query(
      `${exists.rowCount ? "ALTER" : "CREATE"} ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE` +
        ` PASSWORD ${password} CONNECTION LIMIT ${Number(s.connectionLimit)}`,
    );
    // A non-superuser administrator must be a member of the role to make it a database owner.
    await c.query(`GRANT ${role} TO CURRENT_USER`).catch(() => undefined);
    const dbExists = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [s.database]);
    if (!dbExists.rowCount) {
      if (!creating)
        throw new Error(`database ${s.database} is missing; refresh, then up recreates it`);
      const template = c.escapeIdentifier(s.template || "template0");
      // A clone fails while anyone is connected to the template: retry briefly.
      for (let attempt = 1; ; attempt++) {
        try {
          await c.query(
            `CREATE DATABASE ${db} OWNER ${role} TEMPLATE ${template} ENCODING 'UTF8'` +
              ` CONNECTION LIMIT ${Number(s.connectionLimit)}`,
          );
          break;
        } catch (e) {
          if (attempt >= 5 || !/being accessed by other users/.test(String(e))) throw e;
          await new Promise((r) => setTimeout(r, 1000 * attempt));
        }
      }
    } else {
      await c.query(`ALTER DATABASE ${db} OWNER TO ${role}`);
      await c.query(`ALTER DATABASE ${db} CONNECTION LIMIT ${Number(s.connectionLimit)}`);
    }
    // Every database is open to PUBLIC by default: close it so no tenant reaches another's.
    await c.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
  });
  if (s.template) {
    // A clone keeps the template owner's objects; Odoo (as the tenant role) must own them all.
    // Object by object: REASSIGN OWNED would also hand over the template database itself.
    await withClient(s.admin, s.database, (c) =>
      c.query(
        `DO $$ DECLARE r record; BEGIN
          FOR r IN
            SELECT format('ALTER %s %s OWNER TO %I',
                     CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                       WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                     c.oid::regclass, ${c.escapeLiteral(s.role)}) AS sql
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
               AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
               AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = ${c.escapeLiteral(s.role)})
               AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
            UNION ALL
            SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, ${c.escapeLiteral(s.role)})
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = ${c.escapeLiteral(s.role)})
            UNION ALL
            SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, ${c.escapeLiteral(s.role)})
              FROM pg_namespace n
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public')
               AND n.nspname NOT LIKE 'pg_%'
          LOOP EXECUTE r.sql; END LOOP;
        END $$`,
      ),
    );
  }
}

async function drop(s: State): Promise<void> {
  await withClient(s.admin, "postgres", async (c) => {
    const db = c.escapeIdentifier(s.database);
    const exists = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [s.database]);
    if (exists.rowCount) {
      // Refuse new sessions, end the open ones (Odoo may still be stopping), then drop.
      await c.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
      await c.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        [s.database],
      );
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    }
    await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(s.role)}`);
  });
}

/** The live state, or undefined when the role or the database is gone. */
async function observe(s: State): Promise<State | undefined> {
  const live = await withClient(s.admin, "postgres", async (c) => {
    const role = await c.query(
      "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1 AND rolcanlogin",
      [s.role],
    );
    const db = await c.query(
      `SELECT datconnlimit, pg_get_userbyid(datdba) AS owner,
              has_database_privilege('public', datname, 'CONNECT') AS public_connect
         FROM pg_database WHERE datname = $1`,
      [s.database],
    );
    return { role: role.rows[0], db: db.rows[0] };
  });
  if (!live.role || !live.db || live.db.owner !== s.role) return undefined;
  // The password cannot be read back (it is stored hashed): try it.
  const passwordWorks = await withClient(
    { ...s.admin, user: s.role, password: s.password },
    s.database,
    async () => true,
  ).catch((e) => (/password authentication failed/.test(String(e)) ? false : true));
  return {
    ...s,
    password: passwordWorks ? s.password : "",
    connectionLimit: live.role.rolconnlimit === live.db.datconnlimit ? live.role.rolconnlimit : -2,
    publicRevoked: !live.db.public_connect,
  };
}

const provider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: State, news: State) {
    // Replacing would drop the customer's database and create an empty one: never by a diff.
    const renamed = (["role", "database"] as const).filter((k) => olds[k] !== news[k]);
    if (renamed.length)
      throw new Error(
        `the tenant database ${olds.database} (role ${olds.role}) would be replaced by ` +
          `${news.database} (role ${news.role}), which drops its data: refused. A tenant's ` +
          "database keeps its name; moving it is a backup and restore, not a diff",
      );
    const changed =
      olds.password !== news.password ||
      olds.connectionLimit !== news.connectionLimit ||
      olds.publicRevoked === false ||
      JSON.stringify(olds.admin) !== JSON.stringify(news.admin);
    // The template matters only at creation: a later template never replaces a live database.
    return { changes: changed };
  },
  async create(inputs: State) {
    await converge(inputs, true);
    return { id: `${inputs.database}`, outs: { ...inputs, publicRevoked: true } };
  },
  async read(id, props?: State) {
    if (!props) return { id, props };
    const live = await observe(props);
    return live ? { id, props: live } : { id: "", props: undefined };
  },
  async update(_id, _olds: State, news: State) {
    await converge(news, false);
    return { outs: { ...news, publicRevoked: true } };
  },
  async delete(_id, props: State) {
    await drop(props);
  },
};

/**
 * A tenant's role and database on a shared PostgreSQL server, through a dynamic provider over
 * `pg` (no PostgreSQL resource plugin is obtainable here; see the README). The database is owned
 * by the role, cloned from the template when one is given (every object then handed to the role),
 * limited to the plan's connections, and closed to PUBLIC. Passwords stay secret in the state.
 */
export class TenantDatabase extends pulumi.dynamic.Resource {
  declare readonly database: pulumi.Output<string>;
  declare readonly role: pulumi.Output<string>;

  constructor(name: string, args: TenantDatabaseArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        ...args,
        admin: pulumi.secret(args.admin),
        password: pulumi.secret(args.password),
        template: args.template ?? "",
        publicRevoked: undefined,
      },
      { ...opts, additionalSecretOutputs: ["admin", "password"] },
    );
  }
}
