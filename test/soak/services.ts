// The soak's own PostgreSQL (the API's store and the Pulumi state backend) and Redis, as
// containers of the images built here on loopback ports, so faults can take them away: PostgreSQL
// is stopped and started again (its data kept), Redis is removed and started empty (its data lost).
import Docker from "dockerode";
import { Redis } from "ioredis";
import { Client } from "pg";
import { readLocalImages } from "../../stacks/platform/local-platform";
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

export class SoakRedis {
  constructor(readonly port: number) {}
  get name(): string {
    return `odoo-saas-soak-redis-${this.port}`;
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** A Redis without persistence: started again after `remove`, it holds nothing. */
  async start(): Promise<void> {
    await replace(this.name, {
      Image: readLocalImages().ODOO_SAAS_REDIS_IMAGE,
      Cmd: ["redis-server", "--save", "", "--appendonly", "no"],
      ...published(this.port, 6379),
    });
    await eventually(
      async () => {
        const r = new Redis(this.port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0 });
        r.on("error", () => undefined);
        try {
          await r.connect();
          return (await r.ping()) === "PONG";
        } finally {
          r.disconnect();
        }
      },
      30000,
      "Redis",
    );
  }

  remove = () =>
    docker
      .getContainer(this.name)
      .remove({ force: true })
      .catch(() => undefined);
}
