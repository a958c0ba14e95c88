import * as pulumi from "@pulumi/pulumi";
import type { EngineOptions } from "./docker-endpoint";

interface Props {
  volume: string;
  timeoutSeconds: number;
  /** The engine holding the volume (a tenant node's); null: the control plane's. */
  engine?: EngineOptions | null;
}

// Serialized into the state and run by `pulumi-resource-pulumi-nodejs`: modules only through
// `require` inside the functions.
async function waitUntilUnused(p: Props): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- serialized: no imports
  const Docker = require("dockerode") as typeof import("dockerode");
  // The volume's node, else DOCKER_HOST or the local socket, like the docker provider.
  const docker = p.engine ? new Docker(p.engine) : new Docker();
  const deadline = Date.now() + p.timeoutSeconds * 1000;
  for (;;) {
    const users = await docker.listContainers({ all: true, filters: { volume: [p.volume] } });
    // A removed Swarm service's stopped task containers (its task history) hold the volume until
    // Swarm gets round to removing them, which takes longer than the provider's 30 s when busy;
    // a one-shot's finished container whose run lost the engine was never removed (one-shot.ts).
    const leftovers = users.filter(
      (c) =>
        c.State !== "running" &&
        (c.Labels?.["com.docker.swarm.task.id"] || c.Labels?.["odoo-saas.one-shot"]),
    );
    for (const c of leftovers)
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    const left = users.filter((c) => !leftovers.includes(c));
    if (!left.length) return;
    if (Date.now() > deadline)
      throw new Error(
        `volume ${p.volume} is still used by ${left.map((c) => c.Names?.[0] ?? c.Id).join(", ")} after ${p.timeoutSeconds}s`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const provider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: Props, news: Props) {
    const changed = olds.volume !== news.volume;
    return { changes: changed, replaces: changed ? ["volume"] : [] };
  },
  async create(inputs: Props) {
    return { id: inputs.volume, outs: inputs };
  },
  async delete(_id, props: Props) {
    await waitUntilUnused(props);
  },
};

/**
 * Sits between a volume and the runtime that mounts it: on destroy, after the runtime is gone and
 * before the volume is removed, it waits until no container uses the volume (removing a Swarm
 * service's leftover stopped task containers), so the volume's deletion does not time out.
 */
export class VolumeRelease extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    args: { volume: pulumi.Input<string>; timeoutSeconds?: number; engine?: EngineOptions },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      provider,
      name,
      {
        volume: args.volume,
        timeoutSeconds: args.timeoutSeconds ?? 300,
        engine: args.engine ?? null,
      },
      opts,
    );
  }
}
