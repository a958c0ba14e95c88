// The API while its PostgreSQL is down: a store of its own (the PostgreSQL image built here, on a
// loopback port) is stopped under it for 20 s. Webhooks and admin calls answer 503 with Retry-After
// (so Kill Bill retries and nothing is acknowledged without being stored), the outage is logged
// once with its count instead of an error per request, a connection held through it breaks
// without taking the process down, and everything works again when it returns.
import Docker from "dockerode";
import request from "supertest";
import { AdvisoryLocks } from "../api/store/advisory-locks";
import { readLocalImages } from "../automation/local-platform";
import {
  ADMIN_TOKEN,
  ApiHarness,
  WEBHOOK_SECRET,
  eventually,
  gatewayAuth,
  sleepingTenant,
} from "./api-harness";
import { PROVIDER_FREE, KILL_BILL_STAND_IN } from "./stand-ins";

const docker = new Docker();
const PORT = 15998;
const DATABASE_URL = `postgres://saas:outage-pw@127.0.0.1:${PORT}/api`;
const logs: Record<string, unknown>[] = [];
let db: Docker.Container;
let h: ApiHarness;

const hook = () =>
  request(h.runtime.url!).post(`/webhooks/killbill/${WEBHOOK_SECRET}`).send({
    eventType: "ACCOUNT_CREATION",
    objectType: "ACCOUNT",
    objectId: "0f8fad5b-d9cb-469f-a165-70867728950e",
    accountId: "0f8fad5b-d9cb-469f-a165-70867728950e",
    metaData: null,
  });
const storeAnswers = () =>
  eventually(
    async () => {
      const { Client } = await import("pg");
      const c = new Client(DATABASE_URL);
      await c.connect();
      await c.end();
      return true;
    },
    60000,
    "the API's PostgreSQL",
  );

beforeAll(async () => {
  await docker
    .getContainer("odoo-saas-outage-db")
    .remove({ force: true })
    .catch(() => undefined);
  db = await docker.createContainer({
    name: "odoo-saas-outage-db",
    Image: readLocalImages().ODOO_SAAS_POSTGRES_IMAGE,
    Cmd: ["postgres"],
    Env: ["POSTGRES_USER=saas", "POSTGRES_PASSWORD=outage-pw", "POSTGRES_DB=api"],
    HostConfig: { PortBindings: { "5432/tcp": [{ HostIp: "127.0.0.1", HostPort: String(PORT) }] } },
    ExposedPorts: { "5432/tcp": {} },
  });
  await db.start();
  await storeAnswers();
  h = new ApiHarness({
    env: { DATABASE_URL },
    logTo: { write: (line) => void logs.push(JSON.parse(line)) },
  });
  await h.start();
}, 120000);

afterAll(async () => {
  await h?.stop().catch(() => undefined);
  await db?.remove({ force: true });
});

describe(`PostgreSQL down under the API ${PROVIDER_FREE} ${KILL_BILL_STAND_IN}`, () => {
  it("answers 503 with Retry-After, logs the outage once, and recovers", async () => {
    expect((await hook()).status).toBe(200);
    await sleepingTenant(h, "sleepy-co");
    const wake = () =>
      request(h.runtime.url!).post("/gateway/tenants/sleepy-co/wake").set(gatewayAuth("sleepy-co"));
    // A connection held through the outage (a tenant's lock, held for an engine run's length).
    let outageOver!: () => void;
    const held = new AdvisoryLocks(h.runtime.pool, "tenant").withLock(
      "outage-co",
      () => new Promise<string>((resolve) => (outageOver = () => resolve("work done"))),
    );
    await new Promise((r) => setTimeout(r, 200));
    await db.stop({ t: 2 });
    const wentAway = Date.now();

    const refused = await Promise.all(Array.from({ length: 10 }, () => hook()));
    for (const res of refused) {
      expect(res.status).toBe(503);
      expect(res.headers["retry-after"]).toBe("10");
      expect(res.body.error).toMatchObject({ code: "unavailable" });
    }
    const adminCall = await request(h.runtime.url!)
      .get("/admin/tenants")
      .set("Authorization", `Bearer ${ADMIN_TOKEN}`);
    expect(adminCall.status).toBe(503);
    // A gateway's wake: 503 with Retry-After (its gateway asks again), not a 500.
    const refusedWake = await wake();
    expect([refusedWake.status, refusedWake.headers["retry-after"]]).toEqual([503, "10"]);
    // Down for 20 s in all: the process lives through it with its lock's connection broken.
    await new Promise((r) => setTimeout(r, Math.max(0, 20000 - (Date.now() - wentAway))));

    await db.start();
    await storeAnswers();
    outageOver();
    // The process survived its broken connection, and the work's result is not lost to it.
    expect(await held).toBe("work done");
    await eventually(async () => (await hook()).status === 200, 60000, "webhooks accepted again");
    expect([(await wake()).status, (await wake()).status]).toEqual([202, 200]);
    const stored = await h.runtime.pool.query("SELECT count(*)::int AS n FROM webhook_inbox");
    expect(stored.rows[0].n).toBeGreaterThanOrEqual(2); // the ones acknowledged, none of the refused

    const outage = logs.filter((l) => /dependency unavailable|available again/.test(String(l.msg)));
    expect(outage.map((l) => l.msg)).toEqual([
      "dependency unavailable: answering 503",
      "dependency available again",
    ]);
    expect(outage[1]).toMatchObject({ refused: 12 });
    // The broken connections: said once, when they broke and when they came back.
    const pool = logs.filter((l) => /^PostgreSQL connection/.test(String(l.msg)));
    expect(pool.map((l) => l.msg)).toEqual([
      "PostgreSQL connection lost: requests answered 503 until it returns",
      "PostgreSQL connections again",
    ]);
    expect(logs.filter((l) => l.msg === "request failed")).toEqual([]);
  });
});
