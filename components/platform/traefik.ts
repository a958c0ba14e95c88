import * as pulumi from "@pulumi/pulumi";
import { dockerWorkload, secretFilePath, type NetworkRef } from "../workload";
import { childOptions, platformVolume, type PlatformPartArgs } from "./platform-part";
import { traefikCommand, traefikHealthcheckTests, type AcmeResolver } from "./route-labels";

export interface TraefikArgs extends PlatformPartArgs {
  image: string;
  /** The network tenants and routed services are reached on. */
  edgeNetwork: NetworkRef;
  /** Host ports of the web (HTTP, redirects to HTTPS) and websecure entry points. */
  httpPort: number;
  httpsPort: number;
  /** Host address they are published on (container runtime); every address when unset. */
  publishHostIp?: string;
  /** ACME (none: Traefik's default certificate); the ACME server's HTTPS roots as PEM, if any. */
  acme?: Omit<AcmeResolver, "caCertificatesPath"> & { caCertificates?: string };
  dashboard: boolean;
  /** How long a client may take to send a whole request (uploads included). */
  requestReadSeconds: number;
  /** Swarm: how often the swarm provider reads the services. */
  swarmRefreshSeconds: number;
  /**
   * With monitoring: the control network, where the blackbox exporter probes tenants through
   * Traefik and Prometheus reads its metrics on `metricsPort` (routes still use the edge only).
   */
  monitoring?: { controlNetwork: NetworkRef; metricsPort: number };
  limits: { cpus: number; memoryMb: number };
}

/**
 * Traefik, the edge: routes `<tenant>.<domain>` to tenants and `api.<domain>` to the API by the
 * labels the engine reports (docker or swarm provider), keeps its ACME certificates on a volume,
 * and is healthy once its ping answers. On Swarm it runs on a manager (its provider reads the
 * Swarm API) that holds its volume.
 */
export class Traefik extends pulumi.ComponentResource {
  constructor(name: string, args: TraefikArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-saas:platform:Traefik", name, {}, opts);
    const child = childOptions(this, opts?.parent);
    const p = args.namePrefix;
    const swarm = args.runtime === "swarm";
    // The platform's names: `<platform>-traefik`, `<platform>-traefik-acme`.
    const certificates = platformVolume(`${name}-acme`, `${p}-traefik-acme`, args.labels, child);
    const caCertificates = args.acme?.caCertificates;
    const acme: AcmeResolver | undefined = args.acme && {
      resolver: args.acme.resolver,
      email: args.acme.email,
      caServer: args.acme.caServer,
      challenge: args.acme.challenge,
      profile: args.acme.profile,
      certificatesDurationHours: args.acme.certificatesDurationHours,
      caCertificatesPath: caCertificates
        ? secretFilePath(args.runtime, "ACME_CA_CERTIFICATES")
        : undefined,
    };
    dockerWorkload(
      name,
      {
        runtime: args.runtime,
        endpointMode: args.swarmEndpointMode,
        name: `${p}-traefik`,
        placement: swarm ? ["node.role == manager", args.volumeNode!] : undefined,
        limits: args.limits,
        image: args.image,
        command: pulumi.output(args.edgeNetwork.name).apply((edgeNetwork) =>
          traefikCommand({
            runtime: args.runtime,
            edgeNetwork,
            httpPort: args.httpPort,
            httpsPort: args.httpsPort,
            acme,
            dashboard: args.dashboard,
            requestReadSeconds: args.requestReadSeconds,
            swarmRefreshSeconds: args.swarmRefreshSeconds,
            metricsPort: args.monitoring?.metricsPort,
          }),
        ),
        labels: args.labels,
        ...(caCertificates ? { secretFileEnv: { ACME_CA_CERTIFICATES: caCertificates } } : {}),
        networks: args.monitoring
          ? [args.edgeNetwork, args.monitoring.controlNetwork]
          : [args.edgeNetwork],
        mounts: [
          {
            type: "bind",
            source: "/var/run/docker.sock",
            target: "/var/run/docker.sock",
            readOnly: true,
          },
          { source: certificates.name, target: "/letsencrypt" },
        ],
        healthcheck: {
          tests: traefikHealthcheckTests(args.httpPort),
          intervalSeconds: 10,
          timeoutSeconds: 5,
          retries: 3,
          startPeriodSeconds: 10,
        },
        ports: [args.httpPort, args.httpsPort].map((port) => ({
          internal: port,
          external: port,
          hostIp: args.publishHostIp,
        })),
        running: true,
      },
      child,
    );
    this.registerOutputs({});
  }
}
