import * as fs from "node:fs";
import * as path from "node:path";
import type { Duplex, Readable } from "node:stream";
import type Dockerode from "dockerode";
import { DockerDemux } from "./demux";
import { BackupError } from "./errors";
import type { BackupRepository } from "./repository";

/** The script every agent container runs (see agent.sh), read once. */
const SCRIPT = fs.readFileSync(path.join(__dirname, "agent.sh"), "utf8");
/** restic 0.14 fails at once on a lock held by an exclusive operation (prune, forget): retried. */
const LOCKED = /repository is already locked|unable to create lock/;
const CACHE_VOLUME = "odoo-saas-restic-cache";

/** Where an agent runs: the tenant's filestore volume, its networks, database credentials. */
export interface AgentPlacement {
  /** The tenant it works for: its container says so (`odoo-saas.agent-for`), for `docker ps`. */
  tenant?: string;
  volume?: string;
  /** A restore writes into the volume; everything else mounts it read-only. */
  writable?: boolean;
  /** A fresh anonymous volume at /filestore instead (a restore drill's), removed with the agent. */
  scratch?: boolean;
  /** The networks it joins (the tenant's own, where a dedicated server is, and the data network). */
  networks?: string[];
  env?: Record<string, string>;
  /** How to reach the engine of the node holding the volume (dockerode's options); default the agent's. */
  engine?: Dockerode.DockerOptions;
}

export interface AgentEvent {
  event: string;
  [key: string]: unknown;
}

/** A running agent's output: its stdout, its completion, and a way to stop it early. */
export interface AgentStream {
  stdout: Readable;
  done: Promise<void>;
  /** Stops the agent (a reader went away): removes its container. */
  cancel: () => Promise<void>;
}

export interface AgentOptions {
  /** Each line the agent writes to stderr (restic's and PostgreSQL's progress and errors). */
  onLog?: (line: string) => void;
  timeoutMs?: number;
  /** Attempts while another process holds the repository's exclusive lock. */
  lockAttempts?: number;
}

/**
 * Runs the backup agent: a short-lived container of the backup-agent image next to the tenant
 * (its volume mounted, on its data network), on whatever engine DOCKER_HOST names. One mechanism
 * for local volumes, CephFS volumes and Swarm: the engine mounts the volume, not the API's host.
 */
export class BackupAgent {
  private readonly docker: Dockerode;
  private readonly nodeEngines = new Map<string, Dockerode>();

  constructor(
    readonly image: string,
    private readonly repository: BackupRepository,
    docker?: Dockerode,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Docker = require("dockerode") as typeof import("dockerode");
    this.docker = docker ?? new Docker();
  }

  /** The engine of a tenant's node (one client per engine), else the agent's own. */
  private engine(options?: Dockerode.DockerOptions): Dockerode {
    if (!options) return this.docker;
    const key = JSON.stringify(options);
    let engine = this.nodeEngines.get(key);
    if (!engine) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const Docker = require("dockerode") as typeof import("dockerode");
      engine = new Docker(options);
      this.nodeEngines.set(key, engine);
    }
    return engine;
  }

  /** A node that never ran an agent pulls its image first (from the cluster's registry). */
  private async ensureImage(docker: Dockerode): Promise<void> {
    if (
      await docker
        .getImage(this.image)
        .inspect()
        .then(
          () => true,
          () => false,
        )
    )
      return;
    const stream = await docker.pull(this.image);
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (e: Error | null) =>
        e ? reject(e) : resolve(undefined),
      ),
    );
  }

  /** Runs one verb to completion; its JSON lines, in order. */
  async run(
    verb: string,
    args: string[],
    placement: AgentPlacement = {},
    opts: AgentOptions = {},
  ): Promise<AgentEvent[]> {
    const attempts = opts.lockAttempts ?? 20;
    for (let attempt = 1; ; attempt++) {
      const { stdout, done } = await this.start(verb, args, placement, opts);
      let text = "";
      stdout.on("error", () => undefined); // the same error rejects `done`
      stdout.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      const failure = await done.then(
        () => undefined,
        (e: Error) => e,
      );
      if (!failure)
        return text
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as AgentEvent);
      // Only a repository another agent holds is worth waiting for; anything else is said.
      if (!LOCKED.test(failure.message) || attempt >= attempts) throw failure;
      await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))));
    }
  }

  /**
   * Starts one verb and hands back its stdout as a stream (an export's bytes), never buffered;
   * `done` settles when the container has exited (rejects with its last error lines).
   */
  async start(
    verb: string,
    args: string[],
    placement: AgentPlacement,
    opts: AgentOptions = {},
  ): Promise<AgentStream> {
    const mounts: Dockerode.MountSettings[] = [
      { Type: "volume", Source: CACHE_VOLUME, Target: "/root/.cache/restic" },
      ...this.repository.mounts(),
    ];
    // An empty Source is an anonymous volume: Docker makes it, and removes it with the container.
    if (placement.scratch) mounts.push({ Type: "volume", Source: "", Target: "/filestore" });
    else if (placement.volume)
      mounts.push({
        Type: "volume",
        Source: placement.volume,
        Target: "/filestore",
        ReadOnly: !placement.writable,
      });
    const env = { ...this.repository.env(), ...placement.env };
    const docker = this.engine(placement.engine);
    // The engine's first use: one that cannot be reached (its node down) is named as such.
    await this.ensureImage(docker).catch((e: Error) => {
      throw engineNamed(e, placement.engine);
    });
    const container = await docker
      .createContainer({
        Image: this.image,
        Entrypoint: ["bash", "-c", SCRIPT, "agent"],
        Cmd: [verb, ...args],
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Labels: {
          "odoo-saas.role": "backup-agent",
          "odoo-saas.verb": verb,
          ...(placement.tenant ? { "odoo-saas.agent-for": placement.tenant } : {}),
        },
        HostConfig: {
          Mounts: mounts,
          NetworkMode: placement.networks?.[0] ?? "bridge",
          // The tenant's Odoo runs as uid 101 in the official image; the agent must read its files.
          CapAdd: ["DAC_READ_SEARCH"],
        },
      })
      .catch((e: Error) => {
        throw engineNamed(e, placement.engine);
      });
    const tail: string[] = [];
    let partial = "";
    let stream: NodeJS.ReadWriteStream | undefined;
    let stdout: DockerDemux;
    // The engine may go away between any two requests of a run: said as such, whichever it was,
    // and the container it leaves is removed.
    try {
      for (const network of placement.networks?.slice(1) ?? [])
        await docker.getNetwork(network).connect({ Container: container.id });
      stream = await container.attach({ stream: true, stdout: true, stderr: true });
      stdout = stream.pipe(
        new DockerDemux((chunk) => {
          const lines = (partial + chunk.toString("utf8")).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) {
            if (!line.trim()) continue;
            tail.push(line);
            if (tail.length > 20) tail.shift();
            opts.onLog?.(line);
          }
        }),
      );
      await container.start();
    } catch (e) {
      (stream as Duplex | undefined)?.destroy(); // a hijacked socket; nothing will come on it
      await container.remove({ force: true, v: true }).catch(() => undefined);
      throw engineNamed(e as Error, placement.engine);
    }
    const done = (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          if (opts.timeoutMs)
            timer = setTimeout(
              () =>
                reject(
                  new BackupError(`backup agent ${verb} timed out after ${opts.timeoutMs} ms`),
                ),
              opts.timeoutMs,
            );
        });
        const StatusCode = await Promise.race([exitOf(container), timeout]);
        // The attach stream ends after the exit; let what it still holds reach the reader.
        if (!stdout.writableFinished)
          await new Promise<void>((resolve) => stdout.once("finish", () => resolve()));
        if (partial.trim()) tail.push(partial);
        if (StatusCode !== 0)
          throw new BackupError(
            `backup agent ${verb} exited with ${StatusCode}: ${tail.slice(-6).join(" | ") || "no output"}`,
          );
      } catch (e) {
        const failure = engineNamed(e as Error, placement.engine);
        stdout.destroy(failure);
        throw failure;
      } finally {
        clearTimeout(timer);
        await container.remove({ force: true, v: true }).catch(() => undefined);
      }
    })();
    done.catch(() => undefined); // the caller awaits it; never an unhandled rejection meanwhile
    const cancel = async () => {
      stdout.destroy();
      await container.remove({ force: true, v: true }).catch(() => undefined);
    };
    return { stdout, done, cancel };
  }
}

/** Socket errors that mean the engine is not there (stopped, restarting, its host down). */
const UNREACHABLE = new Set([
  "ENOENT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
]);

/** A socket error that means the engine is not there, said as such (naming it); else `e`. */
function engineNamed(e: Error, engine?: Dockerode.DockerOptions): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (!code || !UNREACHABLE.has(code)) return e;
  return new BackupError(
    `the Docker engine at ${engineAddress(engine)} cannot be reached (stopped or restarting?): ${e.message}`,
  );
}

/** An engine's address as DOCKER_HOST spells it. */
function engineAddress(o?: Dockerode.DockerOptions): string {
  if (o?.socketPath) return `unix://${o.socketPath}`;
  if (o?.host) return `tcp://${o.host}:${o.port ?? 2375}`;
  return process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
}

/**
 * A container's exit code, polled (every 100 ms at first, then up to every second) rather than
 * asked for with one long `wait` request: an engine that goes away while that answer is pending
 * can leave the request open for good, while a poll fails at once with the engine's error.
 */
async function exitOf(container: Dockerode.Container): Promise<number> {
  for (let delay = 100; ; delay = Math.min(1000, delay * 2)) {
    const { State } = await container.inspect();
    if (State.Status === "exited" || State.Status === "dead") return State.ExitCode;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
