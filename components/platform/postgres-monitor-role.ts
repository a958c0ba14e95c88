import * as pulumi from "@pulumi/pulumi";
import { withClient, type AdminConnection } from "../tenant/tenant-database";

/**
 * The postgres exporter's login: `pg_monitor` (read the server's statistics and settings), a few
 * connections, nothing else. Not named `odoo_…`: tenants' roles are `odoo_<customer>_<tenant>`.
 */
export const MONITOR_ROLE = "metrics_exporter";

interface State {
  admin: AdminConnection;
  role: string;
  password: string;
}

// Serialized into the state and run by `pulumi-resource-pulumi-nodejs` (withClient `require`s pg).
async function converge(s: State): Promise<void> {
  await withClient(s.admin, "postgres", async (c) => {
    const role = c.escapeIdentifier(s.role);
    const exists = await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [s.role]);
    await c.query(
      `${exists.rowCount ? "ALTER" : "CREATE"} ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB` +
        ` NOCREATEROLE PASSWORD ${c.escapeLiteral(s.password)} CONNECTION LIMIT 3`,
    );
    await c.query(`GRANT pg_monitor TO ${role}`);
  });
}

const provider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: State, news: State) {
    return {
      changes:
        olds.role !== news.role ||
        olds.password !== news.password ||
        JSON.stringify(olds.admin) !== JSON.stringify(news.admin),
      replaces: olds.role !== news.role ? ["role"] : [],
      deleteBeforeReplace: false,
    };
  },
  async create(inputs: State) {
    await converge(inputs);
    return { id: inputs.role, outs: inputs };
  },
  async update(_id, _olds: State, news: State) {
    await converge(news);
    return { outs: news };
  },
  async delete(_id, props: State) {
    await withClient(props.admin, "postgres", (c) =>
      c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(props.role)}`),
    );
  },
};

/**
 * The monitoring's own role on the shared PostgreSQL server, so the exporter (on the data network
 * tenants share) never holds the administrator's password.
 */
export class PostgresMonitorRole extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    args: { admin: pulumi.Input<AdminConnection>; password: pulumi.Input<string> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      provider,
      name,
      {
        admin: pulumi.secret(args.admin),
        role: MONITOR_ROLE,
        password: pulumi.secret(args.password),
      },
      { ...opts, additionalSecretOutputs: ["admin", "password"] },
    );
  }
}
