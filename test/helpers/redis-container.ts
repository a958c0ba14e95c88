// A Redis of the image built here, without persistence, in a container on a loopback port: tests
// take it away (`remove`) and start it again empty, as a Redis restarted without its data.
import Docker from "dockerode";
import { Redis } from "ioredis";
import { readLocalImages } from "../../automation/local-platform";
import { eventually } from "../api-harness";

const docker = new Docker();

export class RedisContainer {
  constructor(readonly port: number) {}

  get name(): string {
    return `odoo-saas-test-redis-${this.port}`;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (replacing one left by an earlier run) and waits until it answers. */
  async start(): Promise<void> {
    await this.remove();
    await docker
      .createContainer({
        name: this.name,
        Image: readLocalImages().ODOO_SAAS_REDIS_IMAGE,
        Cmd: ["redis-server", "--save", "", "--appendonly", "no"],
        HostConfig: {
          PortBindings: { "6379/tcp": [{ HostIp: "127.0.0.1", HostPort: String(this.port) }] },
        },
        ExposedPorts: { "6379/tcp": {} },
      })
      .then((c) => c.start());
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

  remove(): Promise<void> {
    return docker
      .getContainer(this.name)
      .remove({ force: true })
      .catch(() => undefined);
  }
}
