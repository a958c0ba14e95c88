import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { ContainerCpuLimit } from "./container-cpu-limit";

export type Runtime = "container" | "swarm";
export type SwarmEndpointMode = "vip" | "dnsrr";

export interface WorkloadMount {
  /** Volume name, or a host path for `bind`. */
  source: pulumi.Input<string>;
  target: pulumi.Input<string>;
  /** Default `volume`; `bind` mounts a host path (e.g. the Docker socket for Traefik). */
  type?: "volume" | "bind";
  readOnly?: boolean;
  /** Driver and options, so a Swarm node other than the one holding the volume can create it. */
  driver?: pulumi.Input<string>;
  driverOptions?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Durations in seconds: each runtime gets them written the way its provider reads them back. */
export interface WorkloadHealthcheck {
  tests: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

/** A network as both runtimes need it: containers attach by name, Swarm services by id. */
export interface NetworkRef {
  name: pulumi.Input<string>;
  id: pulumi.Input<string>;
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
  /**
   * Variables that name a file holding secret content (e.g. `ODOO_RC`, Odoo's configuration): a
   * container gets the file written before it starts, a Swarm service a Docker secret file.
   */
  secretFileEnv?: Record<string, pulumi.Input<string>>;
  /**
   * false for images that read no `<KEY>_FILE` variables (Kill Bill and Kaui map environment
   * variables straight to Java properties): their secrets stay plain variables on Swarm too,
   * visible in `docker service inspect` but encrypted in the stack's state.
   */
  secretFiles?: boolean;
  /** Labels: on the container, or on the service where Traefik's swarm provider reads them. */
  labels?: pulumi.Input<Record<string, string>>;
  networks: NetworkRef[];
  mounts?: WorkloadMount[];
  limits?: { cpus: number; memoryMb: number };
  healthcheck?: WorkloadHealthcheck;
  ports?: PublishedPort[];
  /**
   * How other services reach a Swarm service by name: a virtual IP (Docker's default, through
   * IPVS), or DNS round-robin over its tasks where the kernel offers no IPVS.
   */
  endpointMode?: SwarmEndpointMode;
  /** Swarm placement constraints (e.g. `node.role == manager`); the container runtime has one host. */
  placement?: pulumi.Input<string>[];
  /**
   * false: not running, data kept. A Swarm service is scaled to 0; a container is not declared at
   * all (the docker provider never stops a running container on update: `start` applies only at
   * creation and `mustRun: false` leaves it alone), and comes back on resume.
   */
  running: boolean;
  /**
   * Swarm: an update starts the new task before it stops the old one (a stateless process, such
   * as a tenant's gateway, never leaves its name without an answer meanwhile). Default: stop first.
   */
  startFirst?: boolean;
}

/** undefined: a container runtime's workload while it is not running. */
export type Workload = docker.Container | docker.Service | undefined;

/**
 * Go's time.Duration text ("2m0s", "30s"): how the provider reads container durations back.
 * Anything else shows as a diff on the next preview.
 */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/** The provider's short form for service durations: Go's text without trailing zero units ("2m"). */
export function shortDuration(seconds: number): string {
  const text = goDuration(seconds);
  return text === "0s" ? text : text.replace(/(\D)0s$/, "$1").replace(/(\D)0m$/, "$1");
}

/**
 * A container's `cpus` as the provider reads it back (its nanoInt64ToDecimalString), so an
 * unchanged plan shows no diff: `1` is read back as "1.0", `1.5` as "1.5".
 */
export function dockerCpus(cpus: number): string {
  const nano = Math.round(cpus * 1e9);
  if (nano === 0) return "0";
  const text = (nano / 1e9).toFixed(9);
  if ((text.match(/0/g) ?? []).length === 9) return (nano / 1e9).toFixed(1);
  return text.replace(/0+$/, "");
}

/** SwarmKit refuses secret names longer than 64 characters. */
const SWARM_NAME_MAX = 64;

/**
 * A Swarm secret's name: `<base>-<digest of the value>` (secrets are immutable, so a new value gets
 * a new name). A long base is cut so the whole stays within SwarmKit's 64 characters; the digest
 * keeps names apart.
 */
export function swarmSecretName(base: string, value: string): string {
  const digest = createHash("sha256").update(value).digest("hex").slice(0, 12);
  return `${base.slice(0, SWARM_NAME_MAX - digest.length - 1).replace(/[-_.]+$/, "")}-${digest}`;
}

/** Where a container gets the file a `secretFileEnv` variable names. */
const containerFilePath = (key: string) => `/run/odoo-saas/${key.toLowerCase()}`;

/**
 * The path of a `secretFileEnv` file inside the workload, for a program given the path itself
 * rather than the variable (a command-line flag, or another configuration file naming it).
 */
export const secretFilePath = (runtime: Runtime, key: string): string =>
  runtime === "container" ? containerFilePath(key) : `/run/secrets/${key}`;

/** Docker's json-file logs rotate instead of filling the disk. */
const LOG_OPTIONS = { "max-size": "10m", "max-file": "3" };

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
  const health = spec.healthcheck;
  const fileEnv = spec.secretFileEnv ?? {};
  if (spec.runtime === "container") {
    if (!spec.running) return undefined;
    const container = new docker.Container(
      name,
      {
        name: spec.name,
        image: spec.image,
        command: spec.command,
        envs: envList({
          ...spec.env,
          ...spec.secretEnv,
          ...Object.fromEntries(Object.keys(fileEnv).map((k) => [k, containerFilePath(k)])),
        }),
        uploads: Object.keys(fileEnv).length
          ? Object.entries(fileEnv).map(([k, content]) => ({
              file: containerFilePath(k),
              content: pulumi.secret(content),
            }))
          : undefined,
        labels,
        networksAdvanced: spec.networks.map((n) => ({ name: n.name })),
        volumes: spec.mounts?.map((m) =>
          m.type === "bind"
            ? { hostPath: m.source, containerPath: m.target, readOnly: m.readOnly }
            : { volumeName: m.source, containerPath: m.target, readOnly: m.readOnly },
        ),
        cpus: spec.limits ? dockerCpus(spec.limits.cpus) : undefined,
        memory: spec.limits?.memoryMb,
        // No swap beyond the memory limit (Docker's default is twice the limit, read back as a diff).
        memorySwap: spec.limits?.memoryMb,
        logOpts: LOG_OPTIONS,
        healthcheck: health && {
          tests: health.tests,
          interval: goDuration(health.intervalSeconds),
          timeout: goDuration(health.timeoutSeconds),
          retries: health.retries,
          startPeriod: goDuration(health.startPeriodSeconds),
        },
        ports: spec.ports?.map((p) => ({
          internal: p.internal,
          external: p.external,
          ip: p.hostIp,
        })),
        restart: "unless-stopped",
        // Give Odoo/PostgreSQL time to shut down cleanly before SIGKILL.
        destroyGraceSeconds: 30,
      },
      // The CPU limit is set at creation, then changed in place by ContainerCpuLimit (a change of
      // `cpus` would replace the container); memory the provider updates in place itself.
      spec.limits ? { ...opts, ignoreChanges: [...(opts.ignoreChanges ?? []), "cpus"] } : opts,
    );
    if (spec.limits)
      new ContainerCpuLimit(
        `${name}-cpus`,
        { container: container.id, cpus: spec.limits.cpus },
        { parent: opts.parent, aliases: opts.aliases, dependsOn: [container] },
      );
    return container;
  }
  const asFiles = spec.secretFiles !== false;
  /** A Docker secret holding `value`, mounted at /run/secrets/<key>. */
  const secretFile = (key: string, value: pulumi.Input<string>, resourceSuffix = "") => {
    const secret = new docker.Secret(
      `${name}-${key.toLowerCase()}${resourceSuffix}`,
      {
        // Swarm secrets are immutable: a new value gets a new name, created before the old one
        // (still used by the running task) is removed.
        // (A digest of the value is no secret: unsecret it so the service spec stays readable.)
        name: pulumi.unsecret(
          pulumi
            .all([spec.name, value])
            .apply(([n, v]) => swarmSecretName(`${n}-${key.toLowerCase()}`, v)),
        ),
        data: pulumi.secret(pulumi.output(value).apply((v) => Buffer.from(v).toString("base64"))),
      },
      opts,
    );
    return { key, secret, file: secretFilePath("swarm", key) };
  };
  const secrets = Object.entries(asFiles ? (spec.secretEnv ?? {}) : {}).map(([key, value]) =>
    secretFile(key, value),
  );
  const contentFiles = Object.entries(fileEnv).map(([key, value]) =>
    secretFile(key, value, "-file"),
  );
  const fileVariables = Object.fromEntries([
    ...secrets.map((s) => [`${s.key}_FILE`, s.file]),
    ...contentFiles.map((f) => [f.key, f.file]),
  ]);
  return new docker.Service(
    name,
    {
      name: spec.name,
      labels,
      taskSpec: {
        containerSpec: {
          image: spec.image,
          args: spec.command,
          env: {
            ...spec.env,
            ...(asFiles ? {} : spec.secretEnv),
            ...fileVariables,
          },
          secrets: [...secrets, ...contentFiles].map((s) => ({
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
          healthcheck: health && {
            tests: health.tests,
            interval: shortDuration(health.intervalSeconds),
            timeout: shortDuration(health.timeoutSeconds),
            retries: health.retries,
            startPeriod: shortDuration(health.startPeriodSeconds),
          },
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
        // Spelled out as the provider reads them back, or every preview shows a diff.
        restartPolicy: { condition: "any", delay: "5s", window: "1m" },
        logDriver: { name: "json-file", options: LOG_OPTIONS },
        // By id: a name is deprecated upstream and read back as an id.
        networksAdvanceds: spec.networks.map((n) => ({ id: n.id })),
        placement: spec.placement?.length ? { constraints: spec.placement } : undefined,
      },
      mode: { replicated: { replicas: spec.running ? 1 : 0 } },
      // Every field as the provider reads it back (else each preview shows a diff).
      updateConfig: spec.startFirst
        ? {
            parallelism: 1,
            delay: "0s",
            failureAction: "pause",
            monitor: "5s",
            maxFailureRatio: "0.0",
            order: "start-first",
          }
        : undefined,
      endpointSpec: {
        mode: spec.endpointMode ?? "vip",
        ports: spec.ports?.map((p) => ({
          targetPort: p.internal,
          publishedPort: p.external,
          publishMode: "host",
        })),
      },
    },
    // The service name is fixed, so a replacement must remove the old service first.
    { ...opts, deleteBeforeReplace: true },
  );
}
