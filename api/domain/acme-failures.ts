// What a tenant's hosts' certificates are, from the two places that know: the certificate the edge
// serves for the host, and Traefik's own log, the only record of why the CA refused one (Traefik
// logs JSON: --log.format=json, components/platform/route-labels.ts).

/** Why the last order or renewal of a host's certificate failed, as Traefik logged it. */
export interface AcmeFailure {
  at: Date;
  reason: string;
}

/** A certificate the edge served for a host (SNI). */
export interface ServedCertificate {
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** It names the host and is not Traefik's own default certificate. */
  forHost: boolean;
}

export type CertificateState = "issued" | "pending" | "failed" | "unknown";

export interface HostCertificate {
  host: string;
  /**
   * issued: the edge serves a certificate for the host; failed: it does not, and the CA refused
   * the last order (`lastFailure` says why); pending: it does not yet, nothing refused; unknown:
   * the edge could not be asked.
   */
  state: CertificateState;
  issuer?: string;
  notAfter?: string;
  /** The last refusal; for an issued host, only one after its certificate (a failing renewal). */
  lastFailure?: { at: string; reason: string };
}

const OBTAIN = /^Unable to obtain ACME certificate/;
// Renewals name their domains in the message: "Error renewing ACME certificate: {main [sans]}"
// (Traefik 3.7; "Error renewing certificate from LE" before).
const RENEW = /^Error renewing (?:ACME )?certificate(?: from LE)?\s?: \{(\S+) \[([^\]]*)\]\}/;

/** The last failure per domain (lower case) in Traefik's JSON log; other lines are ignored. */
export function lastAcmeFailures(log: string): Map<string, AcmeFailure> {
  const failures = new Map<string, AcmeFailure>();
  for (const line of log.split("\n")) {
    if (!line.includes("ACME certificate") && !line.includes("renewing certificate")) continue;
    let entry: { message?: unknown; domains?: unknown; error?: unknown; time?: unknown };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const message = typeof entry.message === "string" ? entry.message : "";
    const renewal = RENEW.exec(message);
    const domains = renewal
      ? [renewal[1], ...renewal[2].split(" ")]
      : OBTAIN.test(message) && Array.isArray(entry.domains)
        ? entry.domains
        : [];
    const at = new Date(typeof entry.time === "string" ? entry.time : NaN);
    if (!domains.length || isNaN(at.getTime())) continue;
    const reason = typeof entry.error === "string" && entry.error ? entry.error : message;
    for (const d of domains) {
      if (typeof d !== "string" || !d) continue;
      const key = d.toLowerCase();
      const known = failures.get(key);
      if (!known || known.at <= at) failures.set(key, { at, reason });
    }
  }
  return failures;
}

/** A host's certificate from what the edge served (or that it could not be asked) and the log. */
export function hostCertificate(
  host: string,
  served: ServedCertificate | "unreachable",
  failure: AcmeFailure | undefined,
  now: Date,
): HostCertificate {
  const lastFailure = failure && { at: failure.at.toISOString(), reason: failure.reason };
  if (served === "unreachable")
    return { host, state: "unknown", ...(lastFailure && { lastFailure }) };
  if (served.forHost && served.notAfter > now)
    return {
      host,
      state: "issued",
      issuer: served.issuer,
      notAfter: served.notAfter.toISOString(),
      ...(failure && failure.at > served.notBefore && { lastFailure }),
    };
  return { host, state: failure ? "failed" : "pending", ...(lastFailure && { lastFailure }) };
}
