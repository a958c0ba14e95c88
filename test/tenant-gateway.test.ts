// The tenant's gateway (images/tenant-gateway) on the real engine, in front of the Odoo stand-in:
// it forwards, tells real use from probes and the real-time channel, counts open websockets, and
// wakes: a request that finds Odoo stopped asks the waker once (however many arrive), is held
// with its body until Odoo answers, or gets a 503 with Retry-After after the hold; a browser gets
// a page that reloads itself. The waker here is the test's own HTTP server playing the API (the
// API's side: test/tenant-sleep.test.ts and test/e2e/sleep-wake.test.ts).
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import Docker from "dockerode";
import { Client } from "pg";
import { readLocalImages } from "../automation/local-platform";
import { eventually } from "./api-harness";
import { demuxed } from "./helpers/docker-output";

const docker = new Docker();
const images = readLocalImages();
const NET = `gateway-test-${process.pid}`;
const TOKEN = "gateway-token-for-the-test";
/** How long the gateway holds a request for Odoo (HOLD_SECONDS). */
const HOLD_MS = 8000;
const made: Docker.Container[] = [];
let odoo: Docker.Container;
let gatewayIp: string;

/** What the gateway asked of the waker, and how the waker answers a wake. */
const calls: { path: string; auth?: string; body: string; at: number }[] = [];
let onWake: () => Promise<number> = async () => 202;
let waker: http.Server;

async function run(
  name: string,
  image: string,
  opts: { cmd?: string[]; env?: string[] } = {},
): Promise<Docker.Container> {
  const c = await docker.createContainer({
    name,
    Image: image,
    Cmd: opts.cmd,
    Env: opts.env,
    HostConfig: { NetworkMode: NET },
  });
  made.push(c);
  await c.start();
  return c;
}

const logs = async (c: Docker.Container) => demuxed(await c.logs({ stdout: true, stderr: true }));

async function send(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; port?: number } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: gatewayIp,
        port: opts.port ?? 8069,
        path,
        method: opts.method ?? "GET",
        headers: { ...(opts.body ? { "Content-Type": "application/json" } : {}), ...opts.headers },
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

const reports = () => calls.filter((c) => c.path.endsWith("/activity"));
const wakes = () => calls.filter((c) => c.path.endsWith("/wake"));
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function odooStopped() {
  await odoo.stop({ t: 1 }).catch(() => undefined);
}

async function odooAnswering() {
  const state = await odoo.inspect();
  if (!state.State.Running) await odoo.start();
  await eventually(async () => (await send("/web/health")).status === 200, 60000, "Odoo answers");
}

beforeAll(async () => {
  const net = await docker.createNetwork({ Name: NET, Labels: { "odoo-saas.test": "gateway" } });
  const hostAddress = (await net.inspect()).IPAM!.Config![0].Gateway as string;
  waker = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      calls.push({ path: req.url!, auth: req.headers.authorization, body, at: Date.now() });
      const status = req.url!.endsWith("/wake") ? await onWake() : 204;
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => waker.listen(0, hostAddress, r));
  const wakerUrl = `http://${hostAddress}:${(waker.address() as AddressInfo).port}`;

  const pg = await run(`${NET}-pg`, images.ODOO_SAAS_POSTGRES_IMAGE, {
    cmd: ["postgres"],
    env: ["POSTGRES_USER=admin", "POSTGRES_PASSWORD=pw"],
  });
  await eventually(
    async () => (await logs(pg)).includes("ready to accept connections"),
    60000,
    "pg",
  );
  // Odoo 17 with a worker: the real-time port (8072) answers websockets. Odoo takes a while to load.
  odoo = await run(`${NET}-odoo`, images.ODOO_SAAS_ODOO_IMAGE_17, {
    cmd: ["odoo", "--database=tg", "-i", "base", "--workers=1"],
    env: [`HOST=${NET}-pg`, "USER=admin", "PASSWORD=pw", "STAND_IN_START_DELAY_SECONDS=2"],
  });
  const gateway = await run(`${NET}-gateway`, images.ODOO_SAAS_TENANT_GATEWAY_IMAGE, {
    env: [
      `ODOO_HOST=${NET}-odoo`,
      `DATABASE_HOST=${NET}-pg`,
      "DATABASE_PORT=5432",
      "TENANT=tg",
      `WAKER_URL=${wakerUrl}`,
      `WAKER_TOKEN=${TOKEN}`,
      "HOLD_SECONDS=8",
      "ACTIVITY_REPORT_SECONDS=1",
    ],
  });
  gatewayIp = (await gateway.inspect()).NetworkSettings.Networks[NET].IPAddress;
  await odooAnswering();
}, 180000);

afterAll(async () => {
  for (const c of made) await c.remove({ force: true, v: true }).catch(() => undefined);
  await docker
    .getNetwork(NET)
    .remove()
    .catch(() => undefined);
  await new Promise((r) => waker?.close(r));
});

beforeEach(() => {
  calls.splice(0);
  onWake = async () => 202;
});

describe("the tenant gateway forwards", () => {
  it("Odoo's pages and real-time port, and the database port to its endpoint", async () => {
    const page = await send("/web/login", { headers: { Accept: "text/html" } });
    expect([page.status, page.body]).toEqual([200, expect.stringContaining("stand-in 17.0")]);
    const realtime = await send("/websocket", { port: 8072 });
    expect(realtime.headers["x-odoo-stand-in-port"]).toBe("realtime");
    const db = new Client({ host: gatewayIp, port: 5432, user: "admin", password: "pw" });
    await db.connect();
    expect((await db.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await db.end();
  });
});

describe("the tenant gateway reports use", () => {
  it("a real request is reported (with the tenant's token) within the report interval", async () => {
    await send("/web/login");
    await eventually(async () => reports().length > 0, 5000, "activity report");
    expect(reports()[0]).toMatchObject({
      path: "/gateway/tenants/tg/activity",
      auth: `Bearer ${TOKEN}`,
      body: '{"websockets":0}',
    });
  });

  it("health checks, monitoring probes and long-polling are not use", async () => {
    await sleepMs(1500); // anything earlier reported
    calls.splice(0);
    await send("/web/health");
    await send("/web/login", { headers: { "X-Odoo-Saas-Probe": "blackbox" } });
    await send("/longpolling/poll", { port: 8072 });
    await send("/websocket", { port: 8072 }); // a websocket path without the upgrade
    await sleepMs(3000);
    expect(reports()).toEqual([]);
  });

  it("an open websocket is use for as long as it stays open", async () => {
    await sleepMs(1500);
    calls.splice(0);
    const socket = await new Promise<import("node:net").Socket>((resolve, reject) => {
      const req = http.request({
        host: gatewayIp,
        port: 8072,
        path: "/websocket",
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      });
      req.on("upgrade", (res, s) => (res.statusCode === 101 ? resolve(s) : reject(res.statusCode)));
      req.on("error", reject);
      req.end();
    });
    await sleepMs(3500);
    const open = reports().map((r) => r.body);
    expect(open.length).toBeGreaterThanOrEqual(2);
    expect(new Set(open)).toEqual(new Set(['{"websockets":1}']));
    socket.destroy();
    await sleepMs(1500);
    calls.splice(0);
    await sleepMs(2500);
    expect(reports()).toEqual([]);
  });
});

describe("the tenant gateway wakes a stopped Odoo", () => {
  beforeEach(odooStopped);
  afterAll(odooAnswering);

  it("a browser gets a page that reloads itself, and the waker is asked once", async () => {
    onWake = async () => 202; // asked, but Odoo stays stopped
    const page = await send("/web", { headers: { Accept: "text/html,application/xhtml+xml" } });
    expect(page.status).toBe(503);
    expect(page.headers["retry-after"]).toBe("3");
    expect(page.body).toContain('<meta http-equiv="refresh" content="3">');
    await eventually(async () => wakes().length === 1, 5000, "wake request");
    expect(wakes()[0]).toMatchObject({
      path: "/gateway/tenants/tg/wake",
      auth: `Bearer ${TOKEN}`,
    });
  });

  it("while Odoo restarts, a health check waits for it (without waking it) and is answered", async () => {
    setTimeout(() => void odoo.start(), 1000);
    const answer = await send("/web/health");
    expect(answer.status).toBe(200);
    expect(wakes()).toEqual([]);
  });

  it("an Odoo stopped for longer than the hold: health checks, probes and the real-time channel get a 503 at once, and wake nothing", async () => {
    await sleepMs(HOLD_MS + 500);
    for (const [path, headers, port] of [
      ["/web/health", {}, 8069],
      ["/web/login", { "X-Odoo-Saas-Probe": "blackbox" }, 8069],
      ["/longpolling/poll", {}, 8072],
      ["/websocket", { Connection: "Upgrade", Upgrade: "websocket" }, 8072],
    ] as const) {
      const answer = await send(path, { headers, port });
      expect([path, answer.status, answer.headers["retry-after"]]).toEqual([path, 503, "5"]);
    }
    await sleepMs(1000);
    expect(wakes()).toEqual([]);
  });

  it("a POST is held while Odoo starts and arrives once, with its body", async () => {
    onWake = async () => {
      void odoo.start();
      return 202;
    };
    const content = Buffer.from("written while asleep").toString("base64");
    const started = Date.now();
    const posted = await send("/stand-in/attachments", {
      method: "POST",
      body: JSON.stringify({ name: "held.txt", datas: content }),
    });
    expect(posted.status).toBe(201);
    // Held through Odoo's start (its 2 s load included), not refused.
    expect(Date.now() - started).toBeGreaterThan(2000);
    const list = JSON.parse((await send("/stand-in/attachments")).body);
    expect(list.filter((a: { name: string }) => a.name === "held.txt")).toEqual([
      expect.objectContaining({ name: "held.txt", on_disk: true }),
    ]);
    expect(wakes()).toHaveLength(1);
  });

  it("twenty requests at once: one wake, all twenty answered", async () => {
    onWake = async () => {
      void odoo.start();
      return 202;
    };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => send("/stand-in/config", { headers: { Accept: "*/*" } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(wakes()).toHaveLength(1);
  });

  it("a wake that does not come in time: 503 with Retry-After after the hold, and a new wake asked later", async () => {
    onWake = async () => 503; // the API is down: the gateway asks again
    const started = Date.now();
    const answer = await send("/stand-in/config");
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toBe("5");
    expect(Date.now() - started).toBeGreaterThanOrEqual(HOLD_MS - 500);
    // A failed wake is asked again (spaced 5 s), not given up.
    expect(wakes().length).toBeGreaterThanOrEqual(2);
  }, 30000);
});

describe("the tenant gateway stops", () => {
  it("at once when the engine asks (it is its container's PID 1: SIGTERM is its own to handle)", async () => {
    const gateway = docker.getContainer(`${NET}-gateway`);
    const started = Date.now();
    await gateway.stop({ t: 10 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await gateway.inspect()).State.ExitCode).toBe(0);
  });
});
