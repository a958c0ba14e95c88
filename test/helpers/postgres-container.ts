// A PostgreSQL container of the platform's image on a Docker network of its own, published on
// loopback, with a SQL helper: what the backup tests and bench/backup back up and restore.
import type Docker from "dockerode";
import { Client } from "pg";
import { readLocalImages } from "../../automation/local-platform";

export interface PostgresContainer {
  /** Its name on the network (the agent's PGHOST). */
  host: string;
  network: string;
  admin: { user: string; password: string };
  /** Runs SQL from the host through the published port. */
  sql(database: string, text: string, as?: { user: string; password: string }): Promise<any[]>;
  /** Removes the container and the network. */
  remove(): Promise<void>;
}

export async function startPostgresContainer(
  docker: Docker,
  o: { name: string; port: number; maxConnections?: number },
): Promise<PostgresContainer> {
  const admin = { user: "postgres_admin", password: "admin-password-for-tests" };
  const network = `${o.name}-net`;
  await docker.createNetwork({ Name: network });
  const container = await docker.createContainer({
    Image: readLocalImages().ODOO_SAAS_POSTGRES_IMAGE,
    name: o.name,
    Env: [`POSTGRES_USER=${admin.user}`, `POSTGRES_PASSWORD=${admin.password}`],
    Cmd: ["postgres", "-c", `max_connections=${o.maxConnections ?? 100}`],
    HostConfig: {
      NetworkMode: network,
      PortBindings: { "5432/tcp": [{ HostIp: "127.0.0.1", HostPort: String(o.port) }] },
    },
    ExposedPorts: { "5432/tcp": {} },
  });
  const sql = async (database: string, text: string, as = admin) => {
    const c = new Client({ host: "127.0.0.1", port: o.port, database, ...as });
    await c.connect();
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  };
  const remove = async () => {
    await container.remove({ force: true }).catch(() => undefined);
    await docker
      .getNetwork(network)
      .remove()
      .catch(() => undefined);
  };
  try {
    await container.start();
    for (let i = 0; ; i++) {
      try {
        await sql("postgres", "SELECT 1");
        break;
      } catch (e) {
        if (i > 120) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } catch (e) {
    await remove();
    throw e;
  }
  return { host: o.name, network, admin, sql, remove };
}
