import * as pulumi from "@pulumi/pulumi";

interface Props {
  /** Container id. */
  container: string;
  cpus: number;
}

// Serialized into the state and run by `pulumi-resource-pulumi-nodejs`: modules only through
// `require` inside the functions.
async function applyCpuLimit(p: Props): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- serialized: no imports
  const Docker = require("dockerode") as typeof import("dockerode");
  const docker = new Docker(); // DOCKER_HOST or the local socket, like the docker provider
  await docker.getContainer(p.container).update({ NanoCpus: Math.round(p.cpus * 1e9) });
}

export const containerCpuLimitProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: Props, news: Props) {
    return { changes: olds.container !== news.container || olds.cpus !== news.cpus };
  },
  async create(inputs: Props) {
    await applyCpuLimit(inputs);
    return { id: inputs.container, outs: inputs };
  },
  async update(_id, _olds: Props, news: Props) {
    await applyCpuLimit(news);
    return { outs: news };
  },
};

/**
 * A running container's CPU limit, changed in place (Docker's container update, no restart). The
 * docker provider can only replace a container to change its `cpus`, which restarts the instance;
 * memory it already updates in place.
 */
export class ContainerCpuLimit extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    args: { container: pulumi.Input<string>; cpus: number },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(containerCpuLimitProvider, name, args, opts);
  }
}
