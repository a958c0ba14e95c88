import { hostCertificate, lastAcmeFailures } from "./acme-failures";

// Lines as Traefik 3.7 writes them with --log.format=json (the first one captured from it).
const obtain = (domains: string[], time: string, error: string) =>
  JSON.stringify({
    level: "error",
    providerName: "le.acme",
    routerName: "odoo-a@docker",
    error,
    domains,
    time,
    message: "Unable to obtain ACME certificate for domains",
  });
const renew = (main: string, sans: string[], time: string, error: string) =>
  JSON.stringify({
    level: "error",
    providerName: "le.acme",
    error,
    time,
    message: `Error renewing ACME certificate: {${main} [${sans.join(" ")}]}`,
  });

describe("lastAcmeFailures", () => {
  it.each([
    ["no lines", "", {}],
    [
      "an order refused",
      obtain(["Erp.A.example"], "2026-12-05T02:14:22Z", "DNS problem: SERVFAIL"),
      { "erp.a.example": ["2026-12-05T02:14:22.000Z", "DNS problem: SERVFAIL"] },
    ],
    [
      "the later of two refusals of one name wins, whatever the order of the lines",
      [
        obtain(["b.example"], "2026-12-05T03:00:00Z", "second"),
        obtain(["b.example"], "2026-12-05T02:00:00Z", "first"),
      ].join("\n"),
      { "b.example": ["2026-12-05T03:00:00.000Z", "second"] },
    ],
    [
      "a renewal refused names its main domain and its alternatives",
      renew("c.example", ["www.c.example"], "2026-12-05T04:00:00Z", "tls: no ALPN"),
      {
        "c.example": ["2026-12-05T04:00:00.000Z", "tls: no ALPN"],
        "www.c.example": ["2026-12-05T04:00:00.000Z", "tls: no ALPN"],
      },
    ],
    [
      "an older Traefik's renewal refusal",
      JSON.stringify({
        error: "acme: error: 400",
        time: "2026-12-05T05:00:00Z",
        message: "Error renewing certificate from LE: {e.example []}",
      }),
      { "e.example": ["2026-12-05T05:00:00.000Z", "acme: error: 400"] },
    ],
    [
      "other lines, text lines and lines without a time are ignored",
      [
        JSON.stringify({
          level: "error",
          message: "Cannot start the provider",
          time: "2026-12-05T01:00:00Z",
        }),
        "2026-12-05T02:14:22Z ERR Unable to obtain ACME certificate for domains",
        JSON.stringify({
          message: "Unable to obtain ACME certificate for domains",
          domains: ["d.example"],
        }),
      ].join("\n"),
      {},
    ],
  ])("%s", (_case, log, expected) => {
    const got = Object.fromEntries(
      [...lastAcmeFailures(log)].map(([d, f]) => [d, [f.at.toISOString(), f.reason]]),
    );
    expect(got).toEqual(expected);
  });
});

describe("hostCertificate", () => {
  const now = new Date("2026-12-05T12:00:00Z");
  const cert = (
    forHost: boolean,
    notBefore = "2026-12-05T10:00:00Z",
    notAfter = "2027-03-05T10:00:00Z",
  ) => ({
    issuer: "Pebble Intermediate CA",
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    forHost,
  });
  const failure = (at: string) => ({ at: new Date(at), reason: "refused" });
  it.each([
    [
      "served, no refusal",
      cert(true),
      undefined,
      { state: "issued", issuer: "Pebble Intermediate CA", notAfter: "2027-03-05T10:00:00.000Z" },
    ],
    [
      "served, refused before it was issued",
      cert(true),
      failure("2026-12-05T09:00:00Z"),
      { state: "issued", issuer: "Pebble Intermediate CA", notAfter: "2027-03-05T10:00:00.000Z" },
    ],
    [
      "served, a renewal refused since",
      cert(true),
      failure("2026-12-05T11:00:00Z"),
      {
        state: "issued",
        issuer: "Pebble Intermediate CA",
        notAfter: "2027-03-05T10:00:00.000Z",
        lastFailure: { at: "2026-12-05T11:00:00.000Z", reason: "refused" },
      },
    ],
    [
      "Traefik's default certificate, nothing refused",
      cert(false),
      undefined,
      { state: "pending" },
    ],
    [
      "Traefik's default certificate, refused",
      cert(false),
      failure("2026-12-05T11:00:00Z"),
      { state: "failed", lastFailure: { at: "2026-12-05T11:00:00.000Z", reason: "refused" } },
    ],
    [
      "expired",
      cert(true, "2026-09-01T00:00:00Z", "2026-12-01T00:00:00Z"),
      undefined,
      { state: "pending" },
    ],
    [
      "the edge unreachable",
      "unreachable" as const,
      failure("2026-12-05T11:00:00Z"),
      { state: "unknown", lastFailure: { at: "2026-12-05T11:00:00.000Z", reason: "refused" } },
    ],
  ])("%s", (_case, served, f, expected) => {
    expect(hostCertificate("a.example", served, f, now)).toEqual({
      host: "a.example",
      ...expected,
    });
  });
});
