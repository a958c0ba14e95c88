import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

export type Runtime = "container" | "swarm";

export interface WorkloadMount {
  /** Volume name, or a host path for `bind`. */
  source: pulumi.Input<string>;
  target: string;
  /** Default `volume`; `bind` mounts a host path (e.g. the Docker socket for Traefik). */
  type?: "volume" | "bind";
  readOnly?: boolean;
  /** Driver and options, so a Swarm node other than the one holding the volume can create it. */
  driver?: pulumi.Input<string>;
  driverOptions?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface WorkloadHealthcheck {
  tests: string[];
  interval: string;
  timeout: string;
  retries: number;
  startPeriod: string;
}

export interface PublishedPort {
  internal: number;
  external: number;
  /** Container runtime only; Swarm publishes on every address of the node. */
  hostIp?: string;
}

/** A long-running process, placed as a container on one host or a service on Docker Swarm. */
export interface WorkloadSpec {
  runtime: Runtime;
  /** Container or service name. */
  name: pulumi.Input<string>;
  image: pulumi.Input<string>;
  /** Arguments to the image's entrypoint (Docker CMD). */
  command?: pulumi.Input<pulumi.Input<string>[]>;
  env?: Record<string, pulumi.Input<string>>;
  /**
   * Secret variables. A container gets them as plain environment variables; a Swarm service gets
   * each as a Docker secret file and `<KEY>_FILE` pointing at it (the official Odoo and
   * PostgreSQL images read both), so the service spec itself holds no secret and its diffs stay
   * readable.
   */
  secretEnv?: Record<string, pulumi.Input<string>>;
  /** Labels: on the container, or on the service where Traefik's swarm provider reads them. */
  labels?: pulumi.Input<Record<string, string>>;
  networks: pulumi.Input<string>[];
  mounts?: WorkloadMount[];
  limits?: { cpus: number; memoryMb: number };
  healthcheck?: WorkloadHealthcheck;
  ports?: PublishedPort[];
  /** false: created but not running (stopped container / service scaled to 0), data kept. */
  running: boolean;
}

export type Workload = docker.Container | docker.Service;

const toList = (labels: Record<string, string>) =>
  Object.keys(labels)
    .sort()
    .map((label) => ({ label, value: labels[label] }));

const envList = (env: Record<string, pulumi.Input<string>> = {}): pulumi.Input<string>[] =>
  Object.keys(env)
    .sort()
    .map((k) => pulumi.interpolate`${k}=${env[k]}`);

/** Declares the workload as a docker.Container or a docker.Service, per `spec.runtime`. */
export function dockerWorkload(
  name: string,
  spec: WorkloadSpec,
  opts: pulumi.CustomResourceOptions,
): Workload {
  const labels = pulumi.output(spec.labels ?? {}).apply(toList);
  if (spec.runtime === "container") {
    return new docker.Container(
      name,
      {
        name: spec.name,
        image: spec.image,
        command: spec.command,
        envs: envList({ ...spec.env, ...spec.secretEnv }),
        labels,
        networksAdvanced: spec.networks.map((n) => ({ name: n })),
        volumes: spec.mounts?.map((m) =>
          m.type === "bind"
            ? { hostPath: m.source, containerPath: m.target, readOnly: m.readOnly }
            : { volumeName: m.source, containerPath: m.target, readOnly: m.readOnly },
        ),
        cpus: spec.limits ? String(spec.limits.cpus) : undefined,
        memory: spec.limits?.memoryMb,
        healthcheck: spec.healthcheck,
        ports: spec.ports?.map((p) => ({
          internal: p.internal,
          external: p.external,
          ip: p.hostIp,
        })),
        restart: "unless-stopped",
        start: spec.running,
        mustRun: spec.running,
        // Give Odoo/PostgreSQL time to shut down cleanly before SIGKILL.
        destroyGraceSeconds: 30,
      },
      opts,
    );
  }
  const secrets = Object.entries(spec.secretEnv ?? {}).map(([key, value]) => {
    const secret = new docker.Secret(
      `${name}-${key.toLowerCase()}`,
      {
        // Swarm secrets are immutable: a new value gets a new name, created before the old one
        // (still used by the running task) is removed.
        // (A digest of the value is no secret: unsecret it so the service spec stays readable.)
        name: pulumi.unsecret(
          pulumi
            .all([spec.name, value])
            .apply(
              ([n, v]) =>
                `${n}-${key.toLowerCase()}-${createHash("sha256").update(v).digest("hex").slice(0, 12)}`,
            ),
        ),
        data: pulumi.secret(pulumi.output(value).apply((v) => Buffer.from(v).toString("base64"))),
      },
      opts,
    );
    return { key, secret, file: `/run/secrets/${key}` };
  });
  const fileEnv = Object.fromEntries(secrets.map((s) => [`${s.key}_FILE`, s.file]));
  return new docker.Service(
    name,
    {
      name: spec.name,
      labels,
      taskSpec: {
        containerSpec: {
          image: spec.image,
          args: spec.command,
          env: { ...spec.env, ...fileEnv },
          secrets: secrets.map((s) => ({
            secretId: s.secret.id,
            secretName: s.secret.name,
            fileName: s.file,
          })),
          mounts: spec.mounts?.map((m) => ({
            type: m.type ?? "volume",
            source: m.source,
            target: m.target,
            readOnly: m.readOnly,
            volumeOptions: m.driver
              ? { driverName: m.driver, driverOptions: m.driverOptions }
              : undefined,
          })),
          healthcheck: spec.healthcheck,
          stopGracePeriod: "30s",
        },
        resources: spec.limits
          ? {
              limits: {
                nanoCpus: Math.round(spec.limits.cpus * 1e9),
                memoryBytes: spec.limits.memoryMb * 1024 * 1024,
              },
            }
          : undefined,
        restartPolicy: { condition: "any", delay: "5s", window: "60s" },
        networksAdvanceds: spec.networks.map((n) => ({ name: n })),
      },
      mode: { replicated: { replicas: spec.running ? 1 : 0 } },
      endpointSpec: spec.ports
        ? {
            ports: spec.ports.map((p) => ({
              targetPort: p.internal,
              publishedPort: p.external,
              publishMode: "host",
            })),
          }
        : undefined,
    },
    opts,
  );
}
