// The API on the real engine: admin calls and a Kill Bill (stand-in) subscription drive the real
// tenant program (docker provider, local images) on a real platform, and the customer's Odoo
// answers through Traefik; suspend, resume and delete act on the real runtime.
import { eventually } from "../api-harness";
import { apiOnPlatform, auth } from "./api-on-platform";
import { BASE_DOMAIN, docker, request as viaTraefik, waitReachable } from "./platform";
import { ODOO_STAND_IN } from "../stand-ins";

const tenantId = "api-acme";
const host = `${tenantId}.${BASE_DOMAIN}`;
const e = apiOnPlatform("container", "e2ea", [tenantId, "api-broken"]);
const view = () => e.view(tenantId);
const converged = (state: string) => e.converged(tenantId, state);

describe(`the API provisions real tenants ${ODOO_STAND_IN}`, () => {
  it("POST /admin/tenants: the tenant answers through Traefik and the customer is mailed its URL", async () => {
    const created = await e.api().post("/admin/tenants").set(auth).send({
      tenantId,
      customerId: "api-acme-corp",
      plan: "trial",
      odooVersion: "17",
      adminEmail: "owner@api-acme.example",
    });
    expect(created.status).toBe(202);
    const t = await converged("active");
    // The URL as it answers: the local platform publishes Traefik on another port than 443.
    expect(t.url).toBe(`https://${host}:${e.p.httpsPort}`);
    expect(t.lastOperation.status).toBe("succeeded");
    await waitReachable(e.p, host);
    await eventually(
      async () =>
        e.h.smtp.messages.find(
          (m) => m.to.includes("owner@api-acme.example") && m.raw.includes(`https://${host}`),
        ),
      30000,
      "ready mail",
    );
  });

  it("suspend stops the runtime; resume brings the same instance back", async () => {
    const put = await viaTraefik(e.p.httpsPort, host, "/stand-in/attachments", {
      method: "POST",
      body: { name: "kept.txt", datas: Buffer.from("kept").toString("base64") },
    });
    expect(put.status).toBe(201);
    await e.api().post(`/admin/tenants/${tenantId}/suspend`).set(auth).expect(202);
    await converged("suspended");
    const running = await docker.listContainers({
      filters: JSON.stringify({ name: [`^odoo-${tenantId}$`] }),
    });
    expect(running).toEqual([]);
    await e.api().post(`/admin/tenants/${tenantId}/resume`).set(auth).expect(202);
    await converged("active");
    await waitReachable(e.p, host);
    const list = await viaTraefik(e.p.httpsPort, host, "/stand-in/attachments");
    expect(JSON.parse(list.body)).toEqual([
      expect.objectContaining({ name: "kept.txt", on_disk: true }),
    ]);
  });

  it("a failing engine run reports the engine's own error in the operation", async () => {
    // The runtime's container name is taken by someone else: the engine's create fails.
    const squatter = await docker.createContainer({
      name: "odoo-api-broken",
      Image: (await docker.listImages())[0].Id,
      Cmd: ["true"],
    });
    try {
      await e
        .api()
        .post("/admin/tenants")
        .set(auth)
        .send({
          tenantId: "api-broken",
          customerId: "api-broken-corp",
          plan: "trial",
          odooVersion: "17",
          adminEmail: "owner@api-broken.example",
        })
        .expect(202);
      const failed = await eventually(
        async () => {
          const t = (await e.api().get("/admin/tenants/api-broken").set(auth)).body;
          return t.lastError && t;
        },
        180000,
        "api-broken to fail",
      );
      expect(failed.lastError).toMatch(/Conflict.*already in use/);
    } finally {
      await squatter.remove({ force: true });
      await e.api().delete("/admin/tenants/api-broken").set(auth);
    }
  });

  it("DELETE removes the tenant's runtime, volume and database", async () => {
    await e.api().delete(`/admin/tenants/${tenantId}`).set(auth).expect(202);
    await eventually(async () => (await view()).observedState === "deleted", 180000, "deleted");
    await expect(docker.getVolume(`odoo-${tenantId}-filestore`).inspect()).rejects.toThrow();
    const admin = await e.p.admin();
    const dbs = await admin.query(
      "SELECT datname FROM pg_database WHERE datname LIKE 'odoo_api_acme%'",
    );
    await admin.end();
    expect(dbs.rows).toEqual([]);
  });
});
