// No customer data is lost, on the real engine through the API: backups into a real restic
// repository, restore into the tenant and into a new tenant id, the Odoo export zip, cancellation
// to `terminated` (data kept), reactivation with the same data, the grace period's end on an
// injected clock (deleted only after a verified final backup, nothing left in the state backend),
// and a fresh tenant under the same id restored from that final backup.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import request from "supertest";
import { ADMIN_TOKEN, ApiHarness, eventually, WEBHOOK_SECRET } from "../api-harness";
import { runCli } from "../../cli/cli";
import { notification } from "../killbill-stand-in";
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

const DAY_MS = 86_400_000;
let p: E2EPlatform;
let h: ApiHarness;
let clock = Date.now();
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const ID = "keep-co";
const COPY = "keep-copy";
const host = (id: string) => `${id}.${BASE_DOMAIN}`;

beforeAll(async () => {
  p = await startPlatform("container", "e2ed");
  h = new ApiHarness({ realProgram: true, env: apiEnvFor(p), now: () => new Date(clock) });
  await h.start();
}, 300_000);

afterAll(async () => {
  try {
    await h?.stop();
    for (const id of p ? await p.tenants.list().catch(() => [] as string[]) : [])
      await p.tenants.destroy(id).catch(() => undefined);
    await p?.teardown();
  } finally {
    await sweepTenants([ID, COPY]);
  }
}, 300_000);

const api = () => request(h.runtime.url!);
const view = async (id = ID) => (await api().get(`/admin/tenants/${id}`).set(auth)).body;
const converged = (state: string, id = ID) =>
  eventually(
    async () => {
      const t = await view(id);
      if (t.lastError) throw new Error(t.lastError);
      return t.converged && t.observedState === state && t;
    },
    240_000,
    `${id} ${state}`,
  );
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
const attachments = async (id = ID) => {
  await waitReachable(p, host(id));
  const r = await viaTraefik(p.httpsPort, host(id), "/stand-in/attachments");
  return (JSON.parse(r.body) as { name: string; on_disk: boolean }[]).map(
    (a) => `${a.name}${a.on_disk ? "" : " (missing on disk)"}`,
  );
};
const attach = async (name: string, content: string, id = ID) => {
  await waitReachable(p, host(id));
  const r = await viaTraefik(p.httpsPort, host(id), "/stand-in/attachments", {
    method: "POST",
    body: { name, datas: Buffer.from(content).toString("base64") },
  });
  expect(r.status).toBe(201);
};
const hook = (body: object) => api().post(`/webhooks/killbill/${WEBHOOK_SECRET}`).send(body);
const event = (sub: { subscriptionId: string; accountId: string }, type: string) =>
  hook(notification(type, "SUBSCRIPTION", sub.subscriptionId, sub.accountId, null));
const mails = (subject: string) =>
  eventually(
    async () =>
      h.smtp.messages.find(
        (m) => m.to.includes("owner@keep.example") && m.subject.includes(subject),
      ),
    60_000,
    `mail "${subject}"`,
  );
const backups = async (id = ID) => (await api().get(`/admin/tenants/${id}/backups`).set(auth)).body;
const volumeExists = (name: string) =>
  docker
    .getVolume(name)
    .inspect()
    .then(
      () => true,
      () => false,
    );
const databases = async (like: string) => {
  const admin = await p.admin();
  try {
    return (await admin.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [like]))
      .rows;
  } finally {
    await admin.end();
  }
};

describe("no customer data is lost", () => {
  let sub: ReturnType<ApiHarness["killbill"]["subscribe"]>;
  let manual: { id: string };

  it("a manual backup is taken, verified and recorded", async () => {
    sub = h.killbill.subscribe({
      tenantId: ID,
      customer: "keep-corp",
      email: "owner@keep.example",
      planName: "odoo-basic-monthly",
    });
    await event(sub, "ENTITLEMENT_CREATION").expect(200);
    await converged("active");
    await attach("original.txt", "the customer's first file");
    const queued = await api().post(`/admin/tenants/${ID}/backups`).set(auth).expect(202);
    expect(queued.body).toMatchObject({ type: "backup", status: "queued" });
    const op = await operationDone(queued.body.id);
    [manual] = await backups();
    expect(op.details.backupId).toBe(manual.id);
    expect(manual).toMatchObject({
      reason: "manual",
      status: "succeeded",
      plan: "basic",
      odooVersion: "17",
    });
    expect(Date.parse((manual as any).verifiedAt)).toBeGreaterThan(0);
    expect((manual as any).bytesProcessed).toBeGreaterThan(0);
    expect((manual as any).modules).toHaveProperty("base");
  }, 400_000);

  it("the CLI takes a backup, lists backups and shows the status through the API", async () => {
    const out: string[] = [];
    const cli = (...argv: string[]) =>
      runCli(argv, {
        env: { ADMIN_TOKEN, ODOO_SAAS_API_URL: h.runtime.url! },
        stdout: (t) => out.push(t),
        stderr: () => undefined,
      });
    expect(await cli("tenants", "backup", ID)).toBe(0);
    expect(out.pop()).toMatch(new RegExp(`^${ID}: backup [0-9a-f-]{36}\n$`));
    expect(await cli("tenants", "backups", ID, "--json")).toBe(0);
    expect(JSON.parse(out.pop()!).map((b: { reason: string }) => b.reason)).toEqual([
      "manual",
      "manual",
    ]);
    expect(await cli("tenants", "status", ID)).toBe(0);
    expect(out.pop()).toMatch(new RegExp(`^${ID} +running +basic`));
    expect(await cli("tenants", "backup", "no-such-tenant")).toBe(1);
  }, 300_000);

  it("restore brings rows and files back to the backup, and the instance runs again", async () => {
    await attach("later.txt", "written after the backup");
    expect(await attachments()).toEqual(["original.txt", "later.txt"]);
    const queued = await api()
      .post(`/admin/tenants/${ID}/restore`)
      .set(auth)
      .send({ backupId: manual.id })
      .expect(202);
    await operationDone(queued.body.id);
    expect(await attachments()).toEqual(["original.txt"]);
    expect((await view()).status).toBe("running");
  }, 300_000);

  it("restore into a new tenant id makes a copy with the same data", async () => {
    const queued = await api()
      .post(`/admin/tenants/${ID}/restore`)
      .set(auth)
      .send({ targetTenantId: COPY })
      .expect(202);
    await operationDone(queued.body.id);
    expect(await attachments(COPY)).toEqual(["original.txt"]);
    expect(await attachments()).toEqual(["original.txt"]); // the source is untouched
  }, 400_000);

  it("a plan change takes a backup first; an agent killed midway is recorded as failed, never as good", async () => {
    await api()
      .post(`/admin/tenants/${COPY}/plan`)
      .set(auth)
      .send({ plan: "standard" })
      .expect(202);
    await eventually(
      async () => (await view(COPY)).converged && (await view(COPY)).plan === "standard",
      240_000,
    );
    expect((await backups(COPY))[0]).toMatchObject({
      reason: "pre-change",
      status: "succeeded",
      plan: "basic",
    });

    const queued = await api().post(`/admin/tenants/${COPY}/backups`).set(auth).expect(202);
    await eventually(
      async () => {
        const [agent] = await docker.listContainers({
          filters: { label: ["odoo-saas.verb=backup"] },
        });
        if (agent) await docker.getContainer(agent.Id).kill();
        return !!agent;
      },
      60_000,
      "the backup agent to start",
    );
    // The job's next attempt takes a good backup under the same operation.
    const op = await operationDone(queued.body.id);
    const [good, killed] = await backups(COPY);
    expect(good).toMatchObject({ id: op.details.backupId, status: "succeeded" });
    expect(killed).toMatchObject({ status: "failed", databaseSnapshot: null, verifiedAt: null });
    expect(killed.error).toMatch(/exited with 137/);
  }, 400_000);

  it("DELETE ?skipBackup=true deletes without a final backup", async () => {
    const before = (await backups(COPY)).length;
    await api().delete(`/admin/tenants/${COPY}?skipBackup=true`).set(auth).expect(202);
    await converged("deleted", COPY);
    expect(await backups(COPY)).toHaveLength(before);
    expect(await databases("odoo_keep_corp_keep_copy")).toEqual([]);
  }, 300_000);

  it("the export is Odoo's backup zip: manifest.json, dump.sql and filestore/", async () => {
    const res = await api()
      .get(`/admin/tenants/${ID}/export`)
      .set(auth)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => cb(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/zip");
    const file = path.join(h.dataDir, "export.zip");
    fs.writeFileSync(file, res.body as Buffer);
    const listing = JSON.parse(
      execFileSync("python3", [
        "-c",
        `import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps({"names": z.namelist(), "manifest": json.loads(z.read("manifest.json")),
  "sql": z.read("dump.sql").decode()[:200000],
  "files": [z.read(n).decode() for n in z.namelist() if n.startswith("filestore/")]}))`,
        file,
      ]).toString(),
    );
    expect(listing.names.slice(0, 2)).toEqual(["manifest.json", "dump.sql"]);
    expect(listing.manifest).toMatchObject({
      odoo_dump: "1",
      version: "17.0",
      major_version: "17.0",
    });
    expect(listing.manifest.modules).toHaveProperty("base");
    expect(listing.sql).toContain("CREATE TABLE public.ir_attachment");
    expect(listing.files).toEqual(["the customer's first file"]);
  }, 120_000);

  it("cancellation terminates: a final backup, the runtime stopped, database and volume kept", async () => {
    sub.state = "CANCELLED";
    await event(sub, "ENTITLEMENT_CANCEL").expect(200);
    const t = await converged("terminated");
    expect(t.status).toBe("terminated");
    expect(Date.parse(t.dataKeptUntil) - clock).toBeGreaterThan(29 * DAY_MS);
    expect((await backups())[0]).toMatchObject({ reason: "pre-terminate", status: "succeeded" });
    expect(await docker.listContainers({ all: true, filters: { name: [`^odoo-${ID}$`] } })).toEqual(
      [],
    );
    expect(await volumeExists(`odoo-${ID}-filestore`)).toBe(true);
    expect(await databases("odoo_keep_corp_keep_co")).toHaveLength(1);
    const mail = await mails("has been stopped");
    expect(mail.raw).toContain(`Your data is kept until ${t.dataKeptUntil.slice(0, 10)}`);
  }, 300_000);

  it("a new subscription within the grace period brings the same instance back with its data", async () => {
    sub = h.killbill.subscribe({
      tenantId: ID,
      customer: "keep-corp",
      email: "owner@keep.example",
      planName: "odoo-basic-monthly",
      accountId: sub.accountId,
    });
    await event(sub, "ENTITLEMENT_CREATION").expect(200);
    await converged("active");
    expect(await attachments()).toEqual(["original.txt"]);
    await mails("is back");
  }, 300_000);

  it("past the grace period it is deleted, only after a verified final backup; nothing stays in the state backend", async () => {
    sub.state = "CANCELLED";
    await event(sub, "ENTITLEMENT_CANCEL").expect(200);
    await converged("terminated");
    clock += 31 * DAY_MS;
    await h.runtime.queues.maintenance.add("retention", { task: "retention" });
    await converged("deleted");
    const [last] = await backups();
    expect(last).toMatchObject({ reason: "pre-destroy", status: "succeeded" });
    const destroy = (await view()).lastOperation;
    expect(destroy.type).toBe("destroy");
    expect(Date.parse(last.finishedAt)).toBeLessThanOrEqual(Date.parse(destroy.finishedAt));
    expect(await volumeExists(`odoo-${ID}-filestore`)).toBe(false);
    expect(await databases("odoo_keep_corp_keep_co")).toEqual([]);
    const state = p.settings.backendUrl.slice("file://".length);
    const left = execFileSync("find", [state])
      .toString()
      .split("\n")
      .filter((f) =>
        f.split("/").some((part) => new RegExp(`^${ID}($|[.-]\\d|\\.json)`).test(part)),
      );
    expect(left).toEqual([]);
  }, 400_000);

  it("a new subscription after deletion starts fresh, and the final backup restores into it", async () => {
    sub = h.killbill.subscribe({
      tenantId: ID,
      customer: "keep-corp",
      email: "owner@keep.example",
      planName: "odoo-basic-monthly",
      accountId: sub.accountId,
    });
    await event(sub, "ENTITLEMENT_CREATION").expect(200);
    await converged("active");
    expect(await attachments()).toEqual([]);
    const [last] = await backups();
    const queued = await api()
      .post(`/admin/tenants/${ID}/restore`)
      .set(auth)
      .send({ backupId: last.id })
      .expect(202);
    await operationDone(queued.body.id);
    expect(await attachments()).toEqual(["original.txt"]);
  }, 400_000);
});
