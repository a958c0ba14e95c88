// Certificates from a real ACME server, on the real Traefik: the platform's resolver pointed at
// Pebble (test/helpers/pebble.ts), Pebble resolving every name to this machine's loopback (where
// Traefik's ports are published) through a test DNS server, and validating TLS-ALPN-01 there.
// Tenants are declared by the tenant program itself. A client that trusts only Pebble's root
// connects; a custom domain gets a certificate of its own and loses its route when removed; a
// domain whose DNS is broken leaves the tenant's other hosts served; certificates outlive a
// Traefik restart, served again from its volume with nothing ordered again;
// a short-lived one is renewed before it expires; and 50 new hosts at once are issued, timed.
// Shared by the container and Swarm suites.
import * as tls from "node:tls";
import * as https from "node:https";
import type { PlatformConfigInput } from "../../components/platform/platform-config";
import type { Runtime } from "../../components/workload";
import { eventually } from "../api-harness";
import { TestDnsServer } from "../helpers/dns-server";
import { Pebble } from "../helpers/pebble";
import { ODOO_STAND_IN } from "../stand-ins";
import { routedHosts, TenantCertificates } from "../../api/services/tenant-certificates";
import {
  apiEnvFor,
  BASE_DOMAIN,
  docker,
  platformPorts,
  startPlatform,
  sweepTenants,
  type E2EPlatform,
  type PlatformName,
} from "./platform";
import { hostAddressForContainers } from "../helpers/host-address";

/** How long the `shortlived` profile's certificates last: due for renewal a minute after issue. */
const SHORTLIVED_SECONDS = 21 * 60;
const BURST = 50;

interface Served {
  /** Chains to the trusted root, and names the host. */
  valid: boolean;
  serial: string;
  issuer: string;
  validTo: string;
  altNames: string;
}

/** The certificate Traefik serves for `host` (SNI), judged against `root` alone. */
function servedCertificate(port: number, host: string, root: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: "127.0.0.1", port, servername: host, ca: [root], rejectUnauthorized: false },
      () => {
        const cert = socket.getPeerCertificate();
        const named = tls.checkServerIdentity(host, cert) === undefined;
        socket.end();
        resolve({
          valid: socket.authorized && named,
          serial: cert.serialNumber,
          issuer: String(cert.issuer?.CN ?? ""),
          validTo: cert.valid_to,
          altNames: cert.subjectaltname ?? "",
        });
      },
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error(`TLS to ${host}: timeout`)));
    socket.on("error", reject);
  });
}

/** The platform's Traefik as an API given apiEnvFor(p) reaches it. */
function apiEnvForCertificates(p: E2EPlatform): { edge: string; traefik: string } {
  const env = apiEnvFor(p);
  return { edge: env.EDGE_PROBE, traefik: env.TRAEFIK_NAME };
}

/** GET over HTTPS trusting `root` alone (a failed verification rejects). */
function strictGet(port: number, host: string, urlPath: string, root: string): Promise<number> {
  return new Promise((resolve, reject) =>
    https
      .get(
        {
          host: "127.0.0.1",
          port,
          path: urlPath,
          servername: host,
          headers: { Host: host },
          ca: [root],
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
      .on("error", reject),
  );
}

export function acmeSuite(runtime: Runtime, name: PlatformName): void {
  const short = runtime === "swarm" ? "sw" : "ct";
  const tenantId = `${short}-certs`;
  const host = `${tenantId}.${BASE_DOMAIN}`;
  const domain = `erp.${short}-certs.example`;
  const broken = `broken.${short}-certs.example`;
  const renewing = `renew.${short}-certs.example`;
  const burstTenants = Array.from({ length: 5 }, (_, i) => `${short}-burst${i}`);
  const ports = platformPorts(name);
  let dns: TestDnsServer;
  let pebble: Pebble;
  let p: E2EPlatform;
  let root: string;
  const spec = (extra: Record<string, unknown> = {}) => ({
    tenantId,
    customerId: `${tenantId}-corp`,
    plan: "basic",
    odooVersion: "17",
    ...extra,
  });
  const served = (h: string) => servedCertificate(ports.https, h, root);
  const issued = (h: string, timeoutMs = 120_000) =>
    eventually(
      async () => {
        const c = await served(h).catch(() => undefined);
        return c?.valid && c;
      },
      timeoutMs,
      `a certificate from Pebble for ${h}`,
    );
  const acmeConfig =
    (extra: Record<string, unknown> = {}) =>
    (c: PlatformConfigInput): PlatformConfigInput => ({
      ...c,
      traefik: {
        ...c.traefik,
        acmeEmail: "ops@certs.example",
        acme: {
          caServer: pebble.directory,
          caCertificates: pebble.serverCertificate,
          // Named, as Let's Encrypt's default is: Pebble gives an order naming no profile a random
          // one, and a 21-minute certificate is due for renewal at once by Traefik's 90-day
          // reckoning (a restarted Traefik then renews it: the "re-orders" once seen here).
          profile: "default",
          ...extra,
        },
      },
    });

  beforeAll(async () => {
    const gateway = await hostAddressForContainers(docker);
    // Every name resolves to this machine's loopback, where Traefik's ports are published.
    dns = await new TestDnsServer().start("127.0.0.1", "127.0.0.1");
    pebble = await new Pebble().start({
      host: gateway,
      dnsServer: dns.address,
      httpPort: ports.http,
      tlsPort: ports.https,
      shortlivedSeconds: SHORTLIVED_SECONDS,
    });
    root = await pebble.root();
    p = await startPlatform(runtime, name, {
      tenants: [tenantId, ...burstTenants],
      config: acmeConfig(),
    });
    await p.tenants.up(spec());
  }, 600_000);

  afterAll(async () => {
    try {
      for (const t of [tenantId, ...burstTenants])
        await p?.tenants.destroy(t).catch(() => undefined);
      await p?.teardown();
    } finally {
      await sweepTenants([tenantId, ...burstTenants]);
      await pebble?.stop();
      await dns?.stop();
    }
  }, 600_000);

  describe(`certificates from a real ACME server (Pebble), on the ${runtime} runtime ${ODOO_STAND_IN}`, () => {
    let tenantSerial: string;

    it("a new tenant's host gets a certificate from Pebble's CA, and a client trusting only that CA connects", async () => {
      const started = Date.now();
      const cert = await issued(host);
      console.log(
        `[acme ${runtime}] tenant host certified ${Date.now() - started} ms after its up`,
      );
      expect(cert.altNames).toBe(`DNS:${host}`);
      tenantSerial = cert.serial;
      // Through that chain alone, once its Odoo answers (the up does not wait for it to load).
      await eventually(
        async () =>
          (await strictGet(ports.https, host, "/web/health", root).catch(() => 0)) === 200,
        120_000,
        `${host} answering`,
      );
    }, 300_000);

    it("a custom domain gets its own certificate; removed, it is no longer served", async () => {
      await p.tenants.up(spec({ customDomains: [domain] }));
      const cert = await issued(domain);
      expect(cert.altNames).toBe(`DNS:${domain}`);
      expect(await strictGet(ports.https, domain, "/web/health", root)).toBe(200);
      expect((await served(host)).serial).toBe(tenantSerial);

      await p.tenants.up(spec());
      await eventually(
        async () =>
          (await strictGet(ports.https, domain, "/web/health", root).catch(() => 0)) !== 200,
        120_000,
        `${domain} no longer served`,
      );
      // The tenant's own host answers again once its replaced container is routed.
      await eventually(
        async () =>
          (await strictGet(ports.https, host, "/web/health", root).catch(() => 0)) === 200,
        120_000,
        `${host} served`,
      );
      expect((await served(host)).serial).toBe(tenantSerial);
    }, 300_000);

    it("a domain whose challenge fails (its DNS broken) leaves the tenant's own host served, and the tenant's certificates say why", async () => {
      await dns.setServfail(broken);
      const before = pebble.issuedCount();
      const { outputs } = await p.tenants.up(spec({ customDomains: [broken] }));
      // The broken domain leaves the tenant whatever happens: later tests need a clean resolver.
      try {
        // Traefik has tried (and Pebble refused) by now; it serves its default certificate there.
        await new Promise((r) => setTimeout(r, 15_000));
        expect((await served(broken)).valid).toBe(false);
        expect(pebble.issuedCount()).toBe(before);
        expect((await served(host)).serial).toBe(tenantSerial);
        expect(await strictGet(ports.https, host, "/web/health", root)).toBe(200);

        // What the admin API's GET /admin/tenants/:id/certificates shows, as the platform's API
        // reads it: the edge asked for each host, Traefik's log (its container, or its service on
        // Swarm) for the CA's refusal.
        const certificates = new TenantCertificates({
          hostsOf: async () => routedHosts(outputs),
          ...apiEnvForCertificates(p),
        });
        const status = await eventually(
          async () => {
            const s = await certificates.of(tenantId);
            return s.certificates.find((c) => c.host === broken)?.state === "failed" && s;
          },
          60_000,
          `${broken} shown as refused`,
        );
        console.log(`[acme ${runtime}] certificates: ${JSON.stringify(status.certificates)}`);
        expect(status.logUnreadable).toBeUndefined();
        expect(status.certificates).toEqual([
          {
            host,
            state: "issued",
            issuer: expect.stringMatching(/Pebble/),
            notAfter: expect.any(String),
          },
          {
            host: broken,
            state: "failed",
            // Pebble's words: "… [broken…] … Could not resolve URL …".
            lastFailure: { at: expect.any(String), reason: expect.stringMatching(/resolve|DNS/i) },
          },
        ]);
      } finally {
        await p.tenants.up(spec());
      }
    }, 300_000);

    it("certificates outlive a Traefik restart: served again from the volume, nothing ordered again", async () => {
      const before = pebble.issuedCount();
      const logFrom = pebble.log().length;
      await restartTraefik(runtime, name);
      const cert = await issued(host, 180_000);
      expect(cert.serial).toBe(tenantSerial);
      // Long enough for a new Traefik to have ordered what it thought it lacked.
      await new Promise((r) => setTimeout(r, 10_000));
      const ordered = pebble.issuedCount() - before;
      if (ordered)
        console.log(`[acme ${runtime}] Pebble after the restart:\n${pebble.log().slice(logFrom)}`);
      expect(ordered).toBe(0);
      expect((await served(host)).serial).toBe(tenantSerial);
    }, 300_000);

    it(`${BURST} new domains and their tenants' own hosts at once are each issued a certificate (the rate measured)`, async () => {
      // Five new tenants with ten domains each (a tenant's most), their ups at once.
      const hosts = burstTenants.flatMap((t) =>
        Array.from({ length: BURST / burstTenants.length }, (_, i) => `h${i}.${t}.example`),
      );
      // Their own hosts are ordered too: waited for as well, so every certificate counted is in.
      const own = burstTenants.map((t) => `${t}.${BASE_DOMAIN}`);
      const before = pebble.issuedCount();
      const started = Date.now();
      await Promise.all(
        burstTenants.map((t) =>
          p.tenants.up({
            ...spec(),
            tenantId: t,
            customerId: `${t}-corp`,
            customDomains: hosts.filter((h) => h.endsWith(`.${t}.example`)),
          }),
        ),
      );
      const applied = Date.now();
      const pending = new Set([...hosts, ...own]);
      await eventually(
        async () => {
          for (const h of [...pending])
            if ((await served(h).catch(() => undefined))?.valid) pending.delete(h);
          return pending.size === 0;
        },
        600_000,
        "the burst's certificates",
      );
      const done = Date.now();
      const seconds = (done - applied) / 1000;
      const names = hosts.length + own.length;
      // Now and then Traefik orders a name twice (seen on Swarm): counted, not hidden.
      const issuedNow = pebble.issuedCount() - before;
      console.log(
        `[acme ${runtime}] ${names} new hosts: up ${applied - started} ms, then all certified in ${seconds.toFixed(1)} s ` +
          `(${(names / seconds).toFixed(2)} certificates/s; ${issuedNow} issued for ${names} names)`,
      );
      expect(issuedNow).toBeGreaterThanOrEqual(names);
      expect((await served(host)).valid).toBe(true);
      for (const t of burstTenants) await p.tenants.destroy(t);
    }, 900_000);

    it(`a short-lived certificate (${SHORTLIVED_SECONDS / 60} min) is renewed before it expires`, async () => {
      // Last: from here on Traefik renews it every minute. Traefik told its certificates last an hour renews those with under 20 minutes left,
      // checking every minute; Pebble's `shortlived` profile issues them with 21.
      await p.reconfigure(acmeConfig({ profile: "shortlived", certificatesDurationHours: 1 }));
      await p.tenants.up(spec({ customDomains: [renewing] }));
      const first = await issued(renewing, 180_000);
      const started = Date.now();
      const renewed = await eventually(
        async () => {
          const c = await served(renewing).catch(() => undefined);
          return c?.valid && c.serial !== first.serial && c;
        },
        300_000,
        `${renewing} renewed`,
      );
      console.log(
        `[acme ${runtime}] short-lived certificate renewed ${Date.now() - started} ms after first seen (valid to ${first.validTo} -> ${renewed.validTo})`,
      );
      expect(new Date(renewed.validTo).getTime()).toBeGreaterThan(
        new Date(first.validTo).getTime(),
      );
      expect(await strictGet(ports.https, renewing, "/web/health", root)).toBe(200);
    }, 600_000);
  });
}

/** The running Traefik: its container, or its service's task's. */
async function runningTraefik(runtime: Runtime, name: string) {
  const filters =
    runtime === "swarm"
      ? { label: [`com.docker.swarm.service.name=${name}-traefik`], status: ["running"] }
      : { name: [`^/${name}-traefik$`], status: ["running"] };
  const [c] = await docker.listContainers({ filters: JSON.stringify(filters) });
  return c ? docker.getContainer(c.Id) : undefined;
}

/** When the running Traefik started. */
async function traefikStartedAt(runtime: Runtime, name: string): Promise<string | undefined> {
  return (await (await runningTraefik(runtime, name))?.inspect())?.State.StartedAt;
}

/**
 * Restarts Traefik (its container, or its service's task by a forced update) and returns once
 * another one runs.
 */
async function restartTraefik(runtime: Runtime, name: string): Promise<void> {
  const before = await traefikStartedAt(runtime, name);
  if (runtime === "container") await docker.getContainer(`${name}-traefik`).restart();
  else {
    const service = docker.getService(`${name}-traefik`);
    const info = await service.inspect();
    await service.update({
      ...info.Spec,
      version: info.Version.Index,
      TaskTemplate: {
        ...info.Spec.TaskTemplate,
        ForceUpdate: (info.Spec.TaskTemplate.ForceUpdate ?? 0) + 1,
      },
    });
  }
  await eventually(
    async () => {
      const now = await traefikStartedAt(runtime, name);
      return now !== undefined && now !== before;
    },
    180_000,
    "Traefik restarted",
  );
}
