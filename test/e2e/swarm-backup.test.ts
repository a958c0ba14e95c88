// Backup and restore of a tenant on Docker Swarm through the API: the backup agent attaches to the
// platform's (attachable overlay) data network and mounts the volume on the node's engine; the
// restore scales the Odoo service to 0 and back around the swap.
import request from "supertest";
import { ADMIN_TOKEN, ApiHarness, eventually } from "../api-harness";
import {
  apiEnvFor,
  BASE_DOMAIN,
  docker,
  request as viaTraefik,
  startPlatform,
  sweepTenants,
  waitReachable,
  type E2EPlatform,
} from "./platform";

let p: E2EPlatform;
let h: ApiHarness;
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const ID = "swarm-keep";
const host = `${ID}.${BASE_DOMAIN}`;

beforeAll(async () => {
  p = await startPlatform("swarm", "e2ef");
  h = new ApiHarness({ realProgram: true, env: apiEnvFor(p) });
  await h.start();
}, 300_000);

afterAll(async () => {
  try {
    await h?.stop();
    for (const id of p ? await p.tenants.list().catch(() => [] as string[]) : [])
      await p.tenants.destroy(id).catch(() => undefined);
    await p?.teardown();
  } finally {
    await sweepTenants([ID]);
  }
}, 300_000);

const api = () => request(h.runtime.url!);
const operationDone = (opId: string) =>
  eventually(
    async () => {
      const op = (await api().get(`/admin/operations/${opId}`).set(auth)).body;
      if (op.status === "failed") throw new Error(`operation failed: ${op.error}`);
      return op.status === "succeeded" && op;
    },
    240_000,
    `operation ${opId}`,
  );
const attachments = async () => {
  await waitReachable(p, host, 180_000);
  const r = await viaTraefik(p.httpsPort, host, "/stand-in/attachments");
  return (JSON.parse(r.body) as { name: string; on_disk: boolean }[]).map(
    (a) => `${a.name}${a.on_disk ? "" : " (missing on disk)"}`,
  );
};
const attach = async (name: string) => {
  await waitReachable(p, host, 180_000);
  const r = await viaTraefik(p.httpsPort, host, "/stand-in/attachments", {
    method: "POST",
    body: { name, datas: Buffer.from(name).toString("base64") },
  });
  expect(r.status).toBe(201);
};

it("backs up a Swarm tenant and restores it, the service scaled down and up around the swap", async () => {
  await api()
    .post("/admin/tenants")
    .set(auth)
    .send({ tenantId: ID, customerId: "swarm-keep-corp", plan: "trial", odooVersion: "17" })
    .expect(202);
  await eventually(
    async () => {
      const t = (await api().get(`/admin/tenants/${ID}`).set(auth)).body;
      if (t.lastError) throw new Error(t.lastError);
      return t.converged && t.observedState === "active";
    },
    240_000,
    `${ID} active`,
  );
  await attach("before.txt");
  const backup = await api().post(`/admin/tenants/${ID}/backups`).set(auth).expect(202);
  await operationDone(backup.body.id);
  await attach("after.txt");
  const restore = await api().post(`/admin/tenants/${ID}/restore`).set(auth).send({}).expect(202);
  await operationDone(restore.body.id);
  const service = await docker.getService(`odoo-${ID}`).inspect();
  expect(service.Spec.Mode.Replicated.Replicas).toBe(1);
  expect(await attachments()).toEqual(["before.txt"]);
  // Progress of the restore on its event stream.
  const events = await api().get(`/admin/operations/${restore.body.id}/events`).set(auth);
  expect(events.text).toContain("runtime stopped; restoring backup");
  expect(events.text).toContain('"status":"succeeded"');
  const view = (await api().get(`/admin/tenants/${ID}`).set(auth)).body;
  expect(view.status).toBe("running");
}, 600_000);
