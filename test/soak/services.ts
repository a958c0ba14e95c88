// The soak's own PostgreSQL (the API's store and the Pulumi state backend), a container of the
// image built here on a loopback port, so a fault can stop it and start it again (data kept).
import Docker from "dockerode";
import { Client } from "pg";
import { readLocalImages } from "../../automation/local-platform";
import { eventually } from "../api-harness";

const docker = new Docker();
const PG_PASSWORD = "soak-password-0123456789";

async function replace(name: string, spec: Docker.ContainerCreateOptions) {
  await docker
    .getContainer(name)
    .remove({ force: true })
    .catch(() => undefined);
  const c = await docker.createContainer({ name, ...spec });
  await c.start();
  return c;
}

const published = (port: number, inside: number) => ({
  HostConfig: {
    PortBindings: { [`${inside}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(port) }] },
  },
  ExposedPorts: { [`${inside}/tcp`]: {} },
});

export class SoakPostgres {
  constructor(readonly port: number) {}
  get name(): string {
    return `odoo-saas-soak-db-${this.port}`;
  }
  url = (database: string) => `postgres://soak:${PG_PASSWORD}@127.0.0.1:${this.port}/${database}`;

  async start(): Promise<void> {
    await replace(this.name, {
      Image: readLocalImages().ODOO_SAAS_POSTGRES_IMAGE,
      Cmd: ["postgres", "-c", "max_connections=200", "-c", "fsync=off"],
      Env: ["POSTGRES_USER=soak", `POSTGRES_PASSWORD=${PG_PASSWORD}`, "POSTGRES_DB=api"],
      ...published(this.port, 5432),
    });
    await this.answers();
    await this.query("api", "CREATE DATABASE pulumi_state");
  }

  async query(database: string, sql: string, params: unknown[] = []): Promise<any[]> {
    const c = new Client(this.url(database));
    await c.connect();
    try {
      return (await c.query(sql, params)).rows;
    } finally {
      await c.end();
    }
  }

  answers(): Promise<boolean> {
    return eventually(() => this.query("api", "SELECT 1").then(() => true), 60000, "PostgreSQL");
  }

  stop = () => docker.getContainer(this.name).stop({ t: 1 });
  async resume(): Promise<void> {
    await docker.getContainer(this.name).start();
    await this.answers();
  }
  remove = () =>
    docker
      .getContainer(this.name)
      .remove({ force: true })
      .catch(() => undefined);
}
