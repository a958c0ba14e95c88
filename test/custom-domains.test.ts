// Customers' own domains through the real API: its PostgreSQL (the claim is the domain's primary
// key), a real DNS server (pebble-challtestsrv, test/helpers/dns-server.ts) the verification asks,
// and the provider-free tenant program. A domain is attached to a tenant's spec only once it
// resolves to the platform alone and its TXT record holds the claim's token; another tenant's
// domain and the platform's own names are refused with nothing changed.
import request from "supertest";
import { defaultTenantSettings } from "./fixtures";
import { ADMIN_TOKEN, ApiHarness } from "./api-harness";
import { TestDnsServer } from "./helpers/dns-server";
import { PROVIDER_FREE } from "./stand-ins";

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const PLATFORM_ADDRESS = "203.0.113.10";
const DOMAIN = "erp.acme.org";
const TXT = `_odoo-saas-challenge.${DOMAIN}`;

let dns: TestDnsServer;
let h: ApiHarness;
const api = () => request(h.runtime.url!);
const spec = async (id: string) =>
  (await h.runtime.pool.query("SELECT spec, desired_generation FROM tenants WHERE id = $1", [id]))
    .rows[0] as { spec: { customDomains?: string[] }; desired_generation: number };
const domainsOf = async (id: string) =>
  (await api().get(`/admin/tenants/${id}/domains`).set(auth).expect(200)).body as {
    domain: string;
    token: string;
    status: string;
    lastCheckError: string | null;
  }[];
const verify = (id: string, domain = DOMAIN) =>
  api().post(`/admin/tenants/${id}/domains/${domain}/verify`).set(auth);

beforeAll(async () => {
  dns = await new TestDnsServer().start();
  h = new ApiHarness({
    platformSettings: defaultTenantSettings,
    env: { PLATFORM_PUBLIC_ADDRESSES: PLATFORM_ADDRESS, DOMAIN_DNS_SERVERS: dns.address },
  });
  await h.start({ workers: true });
  for (const id of ["dom-a", "dom-b"]) {
    await api()
      .post("/admin/tenants")
      .set(auth)
      .send({ tenantId: id, customerId: `${id}-corp`, plan: "trial", odooVersion: "17" })
      .expect(202);
    await h.converged(id, "active");
  }
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await dns?.stop();
});

describe(`custom domains, verified by DNS before they are attached ${PROVIDER_FREE}`, () => {
  let token: string;

  it("a claim gives the owner what to publish; claiming again is the same claim", async () => {
    const first = await api()
      .post("/admin/tenants/dom-a/domains")
      .set(auth)
      .send({ domain: "  ERP.Acme.ORG. " })
      .expect(201);
    expect(first.body).toMatchObject({
      domain: DOMAIN,
      tenantId: "dom-a",
      status: "pending",
      instructions: { pointTo: [PLATFORM_ADDRESS], txt: { name: TXT } },
    });
    token = first.body.token;
    expect(first.body.instructions.txt.value).toBe(token);
    const again = await api()
      .post("/admin/tenants/dom-a/domains")
      .set(auth)
      .send({ domain: DOMAIN })
      .expect(200);
    expect(again.body.token).toBe(token);
  });

  it("another tenant's domain is refused (409), and neither tenant changes", async () => {
    const before = [await spec("dom-a"), await spec("dom-b")];
    const res = await api()
      .post("/admin/tenants/dom-b/domains")
      .set(auth)
      .send({ domain: DOMAIN })
      .expect(409);
    expect(res.body.error.message).toBe(`${DOMAIN} is already claimed by tenant dom-a`);
    expect([await spec("dom-a"), await spec("dom-b")]).toEqual(before);
    expect(await domainsOf("dom-b")).toEqual([]);
    expect((await domainsOf("dom-a")).map((d) => d.token)).toEqual([token]);
  });

  it.each([
    ["api.odoo.example.com", "one of the platform's own names"],
    ["kaui.odoo.example.com", "one of the platform's own names"],
    ["dom-a.odoo.example.com", "one of the platform's own names"],
    ["odoo.example.com", "one of the platform's own names"],
    ["10.1.2.3", "an IP address"],
    ["https://erp.other.org/web", "a host name only"],
  ])("%s can never be claimed (422)", async (domain, reason) => {
    const res = await api()
      .post("/admin/tenants/dom-b/domains")
      .set(auth)
      .send({ domain })
      .expect(422);
    expect(res.body.error.message).toContain(reason);
    expect(await domainsOf("dom-b")).toEqual([]);
  });

  it("verification refuses, with the reason kept, until DNS points at the platform and holds the token", async () => {
    const refusal = async (expected: string) => {
      const res = await verify("dom-a").expect(422);
      expect(res.body.error.message).toBe(`${DOMAIN} is not verified: ${expected}`);
      const [claim] = await domainsOf("dom-a");
      expect(claim).toMatchObject({ status: "pending", lastCheckError: expected });
      expect((await spec("dom-a")).spec.customDomains ?? []).toEqual([]);
    };
    await refusal(
      `${DOMAIN} does not resolve (no A or AAAA record): point it at ${PLATFORM_ADDRESS}`,
    );
    const pointAt = async (addresses: string[]) => {
      await dns.clearA(DOMAIN);
      await dns.addA(DOMAIN, addresses);
    };
    await pointAt(["198.51.100.7"]);
    await refusal(`${DOMAIN} resolves to 198.51.100.7, not to the platform (${PLATFORM_ADDRESS})`);
    // Half pointed at the platform would serve some visitors only: refused too.
    await pointAt([PLATFORM_ADDRESS, "198.51.100.7"]);
    await refusal(`${DOMAIN} resolves to 198.51.100.7, not to the platform (${PLATFORM_ADDRESS})`);
    await pointAt([PLATFORM_ADDRESS]);
    await refusal(`no TXT record ${TXT}: publish the claim's token there`);
    await dns.setTxt(TXT, "someone-else's-token");
    await refusal(`the TXT record ${TXT} does not hold the claim's token`);
  });

  it("once verified it is attached to the tenant's routes (a reconcile); released, it is detached and free", async () => {
    await dns.clearTxt(TXT);
    await dns.setTxt(TXT, token);
    const before = await spec("dom-a");
    const res = await verify("dom-a").expect(200);
    expect(res.body).toMatchObject({ domain: DOMAIN, status: "verified", lastCheckError: null });
    const after = await spec("dom-a");
    expect(after.spec.customDomains).toEqual([DOMAIN]);
    expect(after.desired_generation).toBe(before.desired_generation + 1);
    await h.converged("dom-a", "active");
    // Its certificates list both hosts; this API cannot ask an edge (EDGE_PROBE off).
    const certs = await api().get("/admin/tenants/dom-a/certificates").set(auth).expect(200);
    expect(certs.body).toEqual({
      tenantId: "dom-a",
      certificates: [
        { host: "dom-a.odoo.test", state: "unknown" },
        { host: DOMAIN, state: "unknown" },
      ],
    });
    await api().get("/admin/tenants/nobody/certificates").set(auth).expect(404);
    // Still another tenant's.
    await api().post("/admin/tenants/dom-b/domains").set(auth).send({ domain: DOMAIN }).expect(409);

    await api().delete(`/admin/tenants/dom-a/domains/${DOMAIN}`).set(auth).expect(202);
    expect((await spec("dom-a")).spec.customDomains).toEqual([]);
    await api().delete(`/admin/tenants/dom-a/domains/${DOMAIN}`).set(auth).expect(404);
    await api().post("/admin/tenants/dom-b/domains").set(auth).send({ domain: DOMAIN }).expect(201);
  });

  it("a new tenant cannot bring custom domains past verification", async () => {
    const res = await api()
      .post("/admin/tenants")
      .set(auth)
      .send({
        tenantId: "dom-c",
        customerId: "dom-c-corp",
        plan: "trial",
        odooVersion: "17",
        customDomains: ["erp.dom-c.org"],
      })
      .expect(422);
    expect(res.body.error.message).toContain("POST /admin/tenants/{id}/domains");
  });
});
