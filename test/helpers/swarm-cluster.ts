// A Docker Swarm of its own for the multi-node tests: one manager and N workers, each a container
// running Debian's Docker engine (images/swarm-node) with /var/lib/docker on a volume,
// on a bridge network the test creates; and the cluster's registry (images/registry) as a service
// on the manager. Images reach the nodes as a cluster gets them in production: pushed to that
// registry once, named by digest, pulled by each node that runs them.
import Docker from "dockerode";
import { readLocalImages } from "../../automation/local-platform";
import { eventually } from "../api-harness";

const host = new Docker();

/** What a node's engine needs: every capability Docker knows but CAP_SYS_RESOURCE. */
const NODE_CAPABILITIES = [
  "AUDIT_CONTROL",
  "AUDIT_READ",
  "AUDIT_WRITE",
  "BLOCK_SUSPEND",
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "IPC_LOCK",
  "IPC_OWNER",
  "KILL",
  "LEASE",
  "LINUX_IMMUTABLE",
  "MAC_ADMIN",
  "MAC_OVERRIDE",
  "MKNOD",
  "NET_ADMIN",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_RAW",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYSLOG",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_CHROOT",
  "SYS_MODULE",
  "SYS_NICE",
  "SYS_PACCT",
  "SYS_PTRACE",
  "SYS_RAWIO",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "WAKE_ALARM",
];
const images = readLocalImages();

export interface ClusterNode {
  /** Its container's name and hostname: `<cluster>-manager`, `<cluster>-worker-1`, … */
  name: string;
  role: "manager" | "worker";
  container: Docker.Container;
  /** Its own engine, at its address on the test network. */
  engine: Docker;
  /** Its Swarm node id. */
  id: string;
}

/** Follows a pull/push/load progress stream to its end; rejects on an error in it. */
function follow(stream: NodeJS.ReadableStream): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) =>
    host.modem.followProgress(stream, (err: Error | null, events: Record<string, unknown>[]) => {
      const failed = events?.find((e) => e.error);
      if (err || failed) reject(err ?? new Error(String(failed!.error)));
      else resolve(events);
    }),
  );
}

export class SwarmCluster {
  readonly nodes: ClusterNode[] = [];

  constructor(
    readonly name: string,
    readonly workerCount = 2,
    private readonly options: {
      /** Ports the manager publishes (Swarm host mode) forwarded from this host's loopback. */
      managerPorts?: number[];
      /** Host directories every node sees at the same path (shared storage, as NFS would be). */
      sharedDirectories?: string[];
    } = {},
  ) {}

  get manager(): ClusterNode {
    return this.nodes[0];
  }

  get workers(): ClusterNode[] {
    return this.nodes.filter((n) => n.role === "worker");
  }

  /** The registry every node pulls from (plain HTTP on the test network, trusted by each engine). */
  get registry(): string {
    return `${this.name}-manager:5000`;
  }

  /** Starts the nodes, makes one Swarm of them and runs the registry; the seconds it took. */
  async start(): Promise<number> {
    const started = Date.now();
    await this.stop(); // what a run killed before its teardown left
    await host.createNetwork({ Name: this.name, Driver: "bridge", Labels: this.labels() });
    const roles = [
      "manager",
      ...Array.from({ length: this.workerCount }, (_, i) => `worker-${i + 1}`),
    ];
    const nodes = await Promise.all(roles.map((r) => this.startNode(r)));
    const manager = nodes[0];
    const address = await this.address(manager.container);
    await manager.engine.swarmInit({ ListenAddr: "0.0.0.0:2377", AdvertiseAddr: address });
    const { JoinTokens } = (await manager.engine.swarmInspect()) as {
      JoinTokens: { Worker: string };
    };
    await Promise.all(
      nodes.slice(1).map(async (w) =>
        w.engine.swarmJoin({
          RemoteAddrs: [`${address}:2377`],
          JoinToken: JoinTokens.Worker,
          ListenAddr: "0.0.0.0:2377",
          AdvertiseAddr: await this.address(w.container),
        }),
      ),
    );
    for (const n of nodes) {
      const info = (await n.engine.info()) as { Swarm: { NodeID: string } };
      this.nodes.push({ ...n, id: info.Swarm.NodeID });
    }
    await eventually(
      async () => {
        const listed = (await manager.engine.listNodes()) as { Status: { State: string } }[];
        return listed.length === nodes.length && listed.every((n) => n.Status.State === "ready");
      },
      60_000,
      "every node ready",
    );
    await this.startRegistry();
    return (Date.now() - started) / 1000;
  }

  private labels() {
    return { "odoo-saas.test": this.name };
  }

  private async address(c: Docker.Container): Promise<string> {
    return (await c.inspect()).NetworkSettings.Networks[this.name].IPAddress;
  }

  /** A node's Docker endpoint, as a control plane on this host reaches it. */
  async endpoint(node: ClusterNode): Promise<string> {
    return `tcp://${await this.address(node.container)}:2375`;
  }

  private async startNode(role: string) {
    const name = `${this.name}-${role}`;
    const forwarded = role === "manager" ? (this.options.managerPorts ?? []) : [];
    const container = await host.createContainer({
      name,
      Hostname: name,
      Image: images.ODOO_SAAS_SWARM_NODE_IMAGE,
      Env: [`INSECURE_REGISTRIES=${this.registry}`],
      Labels: this.labels(),
      ExposedPorts: Object.fromEntries([2375, ...forwarded].map((port) => [`${port}/tcp`, {}])),
      HostConfig: {
        // Not Privileged: it asks for every capability, and this host has no CAP_SYS_RESOURCE.
        CapAdd: NODE_CAPABILITIES,
        SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
        // (`--security-opt systempaths=unconfined`: /proc's sysctls writable for dockerd.)
        MaskedPaths: [],
        ReadonlyPaths: [],
        NetworkMode: this.name,
        PortBindings: {
          "2375/tcp": [{ HostIp: "127.0.0.1" }],
          ...Object.fromEntries(
            forwarded.map((port) => [
              `${port}/tcp`,
              [{ HostIp: "127.0.0.1", HostPort: String(port) }],
            ]),
          ),
        },
        Binds: (this.options.sharedDirectories ?? []).map((d) => `${d}:${d}`),
      },
    });
    await container.start();
    // By its address on the test network, which a restarted node keeps (its loopback port does not).
    const engine = new Docker({ host: await this.address(container), port: 2375 });
    await eventually(
      async () => (await engine.ping().catch(() => undefined)) !== undefined,
      60_000,
      `${name}'s engine`,
    );
    return { name, role: role === "manager" ? "manager" : "worker", container, engine } as const;
  }

  /** Copies an image of this host into the manager's engine (docker save | docker load). */
  private async load(image: string): Promise<void> {
    await follow(await this.manager.engine.loadImage(await host.getImage(image).get()));
  }

  /** The registry as a service on the manager, its port published there (no ingress: no IPVS). */
  private async startRegistry(): Promise<void> {
    const image = images.ODOO_SAAS_REGISTRY_IMAGE;
    await this.load(image);
    await this.manager.engine.createService({
      Name: "registry",
      TaskTemplate: {
        ContainerSpec: { Image: image },
        Placement: { Constraints: ["node.role == manager"] },
      },
      EndpointSpec: {
        Ports: [{ Protocol: "tcp", TargetPort: 5000, PublishedPort: 5000, PublishMode: "host" }],
      },
    } as Docker.CreateServiceOptions);
    const url = `http://${await this.address(this.manager.container)}:5000/v2/`;
    await eventually(
      async () => (await fetch(url).catch(() => undefined))?.status === 200,
      60_000,
      "the registry",
    );
  }

  /**
   * Pushes an image of this host to the cluster's registry, as a build pipeline would: the name
   * every node pulls it by, `<registry>/<repository>@<digest>`.
   */
  async publish(image: string): Promise<string> {
    await this.load(image);
    const [repository, tag = "latest"] = image.split(":");
    const target = `${this.registry}/${repository}`;
    await this.manager.engine.getImage(image).tag({ repo: target, tag });
    const events = await follow(
      (await this.manager.engine
        .getImage(`${target}:${tag}`)
        .push({ authconfig: {} })) as unknown as NodeJS.ReadableStream, // anonymous: X-Registry-Auth "{}"
    );
    const digest = events
      .map((e) => (e.aux as { Digest?: string } | undefined)?.Digest)
      .find((d) => d);
    if (!digest) throw new Error(`push of ${image} reported no digest`);
    return `${target}@${digest}`;
  }

  /**
   * What an operator's `ssh -L port:127.0.0.1:port manager` does: the manager's loopback-only
   * `port` (the platform's PostgreSQL admin relay) reachable on its cluster address, so the
   * forwarded port of this host's loopback reaches it. A socat container in the manager's network.
   */
  async tunnel(port: number): Promise<void> {
    const image = await this.publish(readLocalImages().ODOO_SAAS_SOCAT_IMAGE);
    const address = await this.address(this.manager.container);
    const container = await this.manager.engine.createContainer({
      name: `tunnel-${port}`,
      Image: image,
      Cmd: [`TCP-LISTEN:${port},bind=${address},fork,reuseaddr`, `TCP:127.0.0.1:${port}`],
      HostConfig: { NetworkMode: "host", RestartPolicy: { Name: "unless-stopped" } },
    });
    await container.start();
  }

  /** The node each running task of `service` is on, by node name. */
  async placement(service: string): Promise<string[]> {
    const tasks = (await this.manager.engine.listTasks({
      filters: { service: [service], "desired-state": ["running"] },
    })) as { NodeID: string; Status: { State: string } }[];
    return tasks
      .filter((t) => t.Status.State === "running")
      .map((t) => this.nodes.find((n) => n.id === t.NodeID)?.name ?? t.NodeID)
      .sort();
  }

  async stop(): Promise<void> {
    for (const n of [...this.nodes].reverse())
      await n.container.remove({ force: true, v: true }).catch(() => undefined);
    const left = await host.listContainers({
      all: true,
      filters: { label: [`odoo-saas.test=${this.name}`] },
    });
    for (const c of left)
      await host
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    await host
      .getNetwork(this.name)
      .remove()
      .catch(() => undefined);
  }
}
