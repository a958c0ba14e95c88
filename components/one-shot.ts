import * as pulumi from "@pulumi/pulumi";
import type { EngineOptions } from "./docker-endpoint";

export interface OneShotArgs {
  image: pulumi.Input<string>;
  /** Arguments to the image's entrypoint. */
  command: pulumi.Input<pulumi.Input<string>[]>;
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Network names; attachable Swarm overlays work too (the container joins them). */
  networks: pulumi.Input<pulumi.Input<string>[]>;
  mounts?: pulumi.Input<{ source: pulumi.Input<string>; target: string }[]>;
  labels?: pulumi.Input<Record<string, string>>;
  /** A change of any value runs the command again; nothing else does (env changes do not). */
  triggers: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * false: the command runs only when a trigger changes, never when the resource is first
   * created (an upgrade, which a new database does not need).
   */
  runOnCreate?: boolean;
  timeoutSeconds?: number;
  /** The engine it runs on (the node holding its volumes); default the control plane's. */
  engine?: EngineOptions;
}

interface Props {
  image: string;
  command: string[];
  env: Record<string, string>;
  networks: string[];
  mounts: { source: string; target: string }[];
  labels: Record<string, string>;
  triggers: Record<string, string>;
  timeoutSeconds: number;
  runOnCreate: boolean;
  name: string;
  engine: EngineOptions | null;
  exitCode?: number;
}

// Serialized into the state and run by `pulumi-resource-pulumi-nodejs`: modules only through
// `require` inside the functions.
async function runToCompletion(p: Props): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- serialized: no imports
  const Docker = require("dockerode") as typeof import("dockerode");
  // The node's engine, else DOCKER_HOST or the local socket, like the docker provider.
  const docker = p.engine ? new Docker(p.engine) : new Docker();
  try {
    await docker.getImage(p.image).inspect();
  } catch {
    const stream = await docker.pull(p.image);
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve(undefined))),
    );
  }
  // An earlier attempt cut off from the engine (which went away while it ran) could not remove
  // its container: it would hold the tenant's volumes for good (the tenant's destroy then waits
  // in vain), and one still running must finish before the command runs again.
  const label = `odoo-saas.one-shot=${p.name}`;
  const deadline = Date.now() + p.timeoutSeconds * 1000;
  for (;;) {
    const earlier = await docker.listContainers({ all: true, filters: { label: [label] } });
    if (!earlier.some((c) => c.State === "running")) {
      for (const c of earlier)
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
      break;
    }
    if (Date.now() > deadline)
      throw new Error(`an earlier run of ${p.name} did not finish within ${p.timeoutSeconds}s`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const [first, ...others] = p.networks;
  const name = `${p.name}-${Date.now().toString(36)}`;
  const container = await docker.createContainer({
    name,
    Image: p.image,
    Cmd: p.command,
    Env: Object.entries(p.env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...p.labels, "odoo-saas.one-shot": p.name },
    HostConfig: {
      NetworkMode: first,
      Mounts: p.mounts.map((m) => ({
        Type: "volume" as const,
        Source: m.source,
        Target: m.target,
      })),
    },
  });
  try {
    for (const network of others)
      await docker.getNetwork(network).connect({ Container: container.id });
    await container.start();
    // Polled, not one long `wait` request: an engine that goes away while the wait's answer is
    // pending can leave that request open for good (the run hangs), while a poll fails at once
    // with the engine's address in its error.
    let state = (await container.inspect()).State;
    for (let delay = 100; !["exited", "dead"].includes(state.Status);) {
      if (Date.now() > deadline)
        throw new Error(`${name} did not finish within ${p.timeoutSeconds}s`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(1000, delay * 2);
      state = (await container.inspect()).State;
    }
    const result = { StatusCode: state.ExitCode };
    if (result.StatusCode !== 0) {
      const logs = await container.logs({ stdout: true, stderr: true, tail: 20 });
      // Docker multiplexes stdout and stderr in frames: an 8-byte header (size at 4), then data.
      let text = "";
      for (let i = 0; i + 8 <= logs.length; i += 8 + logs.readUInt32BE(i + 4))
        text += logs.subarray(i + 8, i + 8 + logs.readUInt32BE(i + 4)).toString("utf8");
      throw new Error(
        `${p.command.join(" ")} exited with code ${result.StatusCode}:\n${text.trim()}`,
      );
    }
    return result.StatusCode;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

const provider: pulumi.dynamic.ResourceProvider = {
  // A trigger change runs the command: by replacing the resource (a new one runs it), or, for
  // one that does not run on create, by an update that runs it.
  async diff(_id, olds: Props, news: Props) {
    const changed = JSON.stringify(olds.triggers) !== JSON.stringify(news.triggers);
    const replace = changed && news.runOnCreate !== false;
    return { changes: changed, replaces: replace ? ["triggers"] : [] };
  },
  async create(inputs: Props) {
    const id = `${inputs.name}-${Date.now().toString(36)}`;
    // (No `exitCode: undefined` in the outputs: the provider protocol has no undefined.)
    if (inputs.runOnCreate === false) return { id, outs: inputs };
    return { id, outs: { ...inputs, exitCode: await runToCompletion(inputs) } };
  },
  async update(_id, _olds: Props, news: Props) {
    const exitCode = await runToCompletion(news);
    return { outs: { ...news, exitCode } };
  },
  // Nothing to remove: the container is removed as soon as it has finished.
  async delete() {},
};

/**
 * Runs a command in a throw-away container once, on the Docker host the control plane talks to
 * (or the engine of the node holding the volumes it mounts),
 * and again only when a trigger changes. A failure fails the resource (so the next `up` tries
 * again); success leaves nothing behind but the record in the state. Used for Odoo's database
 * initialisation, which must finish before the long-running runtime starts.
 */
export class OneShot extends pulumi.dynamic.Resource {
  declare readonly exitCode: pulumi.Output<number>;

  constructor(name: string, args: OneShotArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        ...args,
        name,
        env: pulumi.secret(pulumi.output(args.env ?? {})),
        mounts: args.mounts ?? [],
        labels: args.labels ?? {},
        timeoutSeconds: args.timeoutSeconds ?? 900,
        runOnCreate: args.runOnCreate ?? true,
        engine: args.engine ?? null,
        exitCode: undefined,
      },
      { ...opts, additionalSecretOutputs: ["env"] },
    );
  }
}
