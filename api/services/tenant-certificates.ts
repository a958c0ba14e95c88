import type Dockerode from "dockerode";
import * as tls from "node:tls";
import { demuxed } from "../../automation/docker-output";
import {
  hostCertificate,
  lastAcmeFailures,
  type HostCertificate,
  type ServedCertificate,
} from "../domain/acme-failures";

type Failures = ReturnType<typeof lastAcmeFailures>;

// How far back Traefik's log is read: it logs a refused order once (it tries again only when the
// host's routes change or it restarts), so a refusal stays relevant for days.
const LOG_WINDOW_SECONDS = 14 * 24 * 3600;

/** The hosts a tenant's last run routes (its own, its verified domains), and its URL's port. */
export function routedHosts(outputs: Record<string, unknown> | null): {
  hosts: string[];
  port?: number;
} {
  const hosts = Array.isArray(outputs?.hosts) ? (outputs.hosts as string[]) : [];
  const port = typeof outputs?.url === "string" ? new URL(outputs.url).port : "";
  return { hosts, ...(port && { port: Number(port) }) };
}

/**
 * The certificates of a tenant's hosts: what the edge serves for each, as a browser asking for the
 * host gets it, and why the CA refused the last order, from Traefik's log.
 */
export class TenantCertificates {
  private readonly docker: Dockerode;

  constructor(
    private readonly o: {
      /** The hosts the tenant's last run routes, and the HTTPS port its URL names (if not 443). */
      hostsOf: (tenantId: string) => Promise<{ hosts: string[]; port?: number }>;
      /** The API's EDGE_PROBE: `direct`, `off`, or the origin Traefik's HTTPS is reached at. */
      edge: string;
      /** Traefik's container or Swarm service (its log); undefined: no failure reasons. */
      traefik?: string;
      docker?: Dockerode;
    },
  ) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Docker = require("dockerode") as typeof import("dockerode");
    this.docker = o.docker ?? new Docker();
  }

  async of(tenantId: string): Promise<{
    tenantId: string;
    certificates: HostCertificate[];
    /** Set when Traefik's log could not be read: refusals then go unseen. */
    logUnreadable?: string;
  }> {
    const { hosts, port = 443 } = await this.o.hostsOf(tenantId);
    const [log, served] = await Promise.all([
      this.failures().then(
        (failures) => ({ failures, error: undefined }),
        (e: Error) => ({ failures: new Map() as Failures, error: e.message }),
      ),
      Promise.all(hosts.map((h) => this.served(h, port))),
    ]);
    const now = new Date();
    return {
      tenantId,
      certificates: hosts.map((h, i) =>
        hostCertificate(h, served[i], log.failures.get(h.toLowerCase()), now),
      ),
      ...(log.error && { logUnreadable: log.error }),
    };
  }

  /** The certificate the edge presents for `host`, as a browser asking for it would get it. */
  private served(host: string, port: number): Promise<ServedCertificate | "unreachable"> {
    if (this.o.edge === "off") return Promise.resolve("unreachable");
    const origin = this.o.edge === "direct" ? undefined : new URL(this.o.edge);
    return new Promise((resolve) => {
      const socket = tls.connect(
        {
          host: origin?.hostname ?? host,
          port: origin ? Number(origin.port || 443) : port,
          servername: host,
          rejectUnauthorized: false, // judged below: the roots a browser trusts are not ours
        },
        () => {
          const cert = socket.getPeerCertificate();
          socket.end();
          resolve({
            issuer: String(cert.issuer?.CN ?? cert.issuer?.O ?? ""),
            notBefore: new Date(cert.valid_from),
            notAfter: new Date(cert.valid_to),
            forHost:
              tls.checkServerIdentity(host, cert) === undefined &&
              cert.subject?.CN !== "TRAEFIK DEFAULT CERT",
          });
        },
      );
      socket.setTimeout(5000, () => socket.destroy(new Error("timeout")));
      socket.on("error", () => resolve("unreachable"));
    });
  }

  /** The last refusal per domain in Traefik's log (a container's, else a Swarm service's). */
  private async failures(): Promise<Failures> {
    const name = this.o.traefik;
    if (!name) return new Map();
    const options = {
      stdout: true,
      stderr: true,
      since: Math.floor(Date.now() / 1000) - LOG_WINDOW_SECONDS,
      follow: false as const,
    };
    const raw = await this.docker
      .getContainer(name)
      .logs(options)
      .catch(async (e: { statusCode?: number }) => {
        if (e.statusCode !== 404) throw e;
        return (await this.docker.getService(name).logs(options)) as unknown as Buffer;
      });
    return lastAcmeFailures(demuxed(raw));
  }
}
