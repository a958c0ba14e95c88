// Idle tenants sleep and wake on the first request, on the real engine and the real Traefik, with
// the API (real tenant program) deciding: the trial plan's policy with its minutes shortened
// (SLEEP_MINUTE_SECONDS), gateways reporting use every second, and an Odoo stand-in that takes 3 s
// to load, as Odoo does. Shared by the container and Swarm suites.
import * as https from "node:https";
import type { Socket } from "node:net";
import { eventually } from "../api-harness";
import { freePort } from "../helpers/free-port";
import { odooWithLoadTime } from "../helpers/loading-odoo";
import { hostAddressForContainers } from "../helpers/host-address";
import type { Runtime } from "../../components/workload";
import { apiOnPlatform, auth, hostOf } from "./api-on-platform";
import { docker, request as viaTraefik, type PlatformName } from "./platform";

/** A minute of the catalog's sleep policies lasts this long here: the trial sleeps after 3 s idle. */
const MINUTE_SECONDS = 0.1;
const IDLE_MS = 30 * MINUTE_SECONDS * 1000;

export function sleepWakeSuite(runtime: Runtime, prefix: PlatformName) {
  const tenant = `${prefix}-sleepy`;
  const held = `${prefix}-held`;
  const host = hostOf(tenant);
  const api = { address: "", port: 0 };
  const e = apiOnPlatform(runtime, prefix, [tenant, held], {
    platform: async () => {
      const address = await hostAddressForContainers(docker);
      const port = await freePort(address);
      Object.assign(api, { address, port });
      const loadingOdoo = await odooWithLoadTime(3);
      return {
        config: (c) => ({
          ...c,
          waker: { url: `http://${address}:${port}`, holdSeconds: 60, activityReportSeconds: 1 },
          odooImages: { ...c.odooImages, "17": loadingOdoo },
        }),
      };
    },
    // The gateways reach the API where it listens: the host's address on the engine's bridge.
    env: () => ({
      HOST: api.address,
      PORT: String(api.port),
      SLEEP_MINUTE_SECONDS: String(MINUTE_SECONDS),
      SLEEP_CHECK_CRON: "* * * * * *",
    }),
  });
  const status = async (id: string) => (await e.view(id)).status as string;
  const untilStatus = (id: string, wanted: string, timeoutMs = 60_000) =>
    eventually(async () => (await status(id)) === wanted, timeoutMs, `${id} ${wanted}`);
  /** A customer's request through Traefik, waiting as long as a wake may take. */
  const customer = (path: string, opts: Parameters<typeof viaTraefik>[3] = {}) =>
    viaTraefik(e.p.httpsPort, host, path, { timeoutMs: 90_000, ...opts });
  /** Starts of the tenant's Odoo on the engine since `since` (a container, or a Swarm task's). */
  const odooStarts = async (since: number) => {
    const stream = await docker.getEvents({
      since: Math.floor(since / 1000),
      until: Math.ceil(Date.now() / 1000),
      filters: JSON.stringify({ type: ["container"], event: ["start"] }),
    });
    const text = await new Promise<string>((resolve) => {
      let all = "";
      stream.on("data", (d: Buffer) => (all += d.toString()));
      stream.on("end", () => resolve(all));
    });
    return text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l).Actor?.Attributes?.name as string)
      .filter((name) => name === `odoo-${tenant}` || name?.startsWith(`odoo-${tenant}.1.`)).length;
  };

  it("a trial idle past its threshold sleeps: its Odoo stopped, shown as sleeping, not probed, measured without waking", async () => {
    await e
      .api()
      .post("/admin/tenants")
      .set(auth)
      .send({
        tenantId: tenant,
        customerId: `${tenant}-corp`,
        plan: "trial",
        odooVersion: "17",
      });
    await e.converged(tenant, "active");
    await e.attach(tenant, "before-sleep.txt");
    await untilStatus(tenant, "sleeping", 60_000);
    const t = await e.view(tenant);
    expect([t.desiredState, t.observedState, t.converged]).toEqual(["active", "active", true]);
    expect(await odooRunning()).toBe(false);
    // Its stack says it sleeps: a preview has nothing to change, a drift check finds nothing.
    const preview = (await e.api().post(`/admin/tenants/${tenant}/preview`).set(auth)).body;
    expect(preview.changes.map((c: { op: string; name: string }) => `${c.op} ${c.name}`)).toEqual(
      [],
    );
    await e.api().post(`/admin/tenants/${tenant}/drift`).set(auth).expect(202);
    const drift = await eventually(
      async () => (await e.view(tenant)).drift,
      120_000,
      "a drift check",
    );
    expect(drift.resources).toEqual([]);
    expect(await status(tenant)).toBe("sleeping");
    const targets = await e
      .api()
      .get("/monitoring/tenant-targets")
      .set(auth)
      .then((r) => r.body);
    expect(JSON.stringify(targets)).not.toContain(tenant);
    // Its usage is measured where its data is, and it sleeps on (docs/usage.md).
    await e.api().post("/admin/usage-metering").set(auth).expect(202);
    const measured = await eventually(
      async () =>
        (await e.api().get(`/admin/tenants/${tenant}/usage`).set(auth)).body.lastMeasurement,
      60_000,
      "a usage measurement",
    );
    expect(measured.users).toBe(1); // a fresh Odoo's one internal user: admin
    expect(measured.filestoreBytes).toBeGreaterThan(0); // before-sleep.txt
    expect(await odooRunning()).toBe(false);
    expect(await status(tenant)).toBe("sleeping");
  });

  it("a browser's first request gets a page that reloads itself (never a 404), then the real page", async () => {
    const first = await customer("/web/login", { headers: { Accept: "text/html" } });
    expect([first.status, first.headers["retry-after"]]).toEqual([503, "3"]);
    expect(first.body).toContain('<meta http-equiv="refresh" content="3">');
    const page = await eventually(
      async () => {
        const r = await customer("/web/login", { headers: { Accept: "text/html" } });
        return r.status === 200 && r;
      },
      90_000,
      "the real page",
    );
    expect(page.body).toContain("stand-in 17.0");
    await untilStatus(tenant, "running");
  });

  it("a POST held through a wake arrives once, with its body; the data from before the sleep is there", async () => {
    await untilStatus(tenant, "sleeping");
    const posted = await customer("/stand-in/attachments", {
      method: "POST",
      body: { name: "while-asleep.txt", datas: Buffer.from("held").toString("base64") },
    });
    expect(posted.status).toBe(201);
    expect(await e.attachments(tenant)).toEqual(["before-sleep.txt", "while-asleep.txt"]);
  });

  it("20 first requests at once: one start, all answered", async () => {
    await untilStatus(tenant, "sleeping");
    const since = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => customer("/stand-in/config")),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(await odooStarts(since)).toBe(1);
  });

  // What keeps a tenant awake and what may sleep are the gateway's and the API's decisions, the
  // same on both runtimes: proven once, on the container runtime.
  if (runtime === "container") {
    it("an open websocket keeps it awake; monitoring probes do not", async () => {
      await untilStatus(tenant, "running");
      const socket = await openWebsocket(e.p.httpsPort, host);
      try {
        // Three idle thresholds with only the websocket open, and probes every half second.
        const until = Date.now() + 3 * IDLE_MS;
        while (Date.now() < until) {
          await customer("/web/health");
          await customer("/web/login", { headers: { "X-Odoo-Saas-Probe": "blackbox" } });
          expect(await status(tenant)).toBe("running");
          await new Promise((r) => setTimeout(r, 500));
        }
      } finally {
        socket.destroy();
      }
      // Closed, the probes alone do not keep it awake.
      const probing = setInterval(() => void customer("/web/health").catch(() => undefined), 500);
      try {
        await untilStatus(tenant, "sleeping");
      } finally {
        clearInterval(probing);
      }
      expect(await odooRunning()).toBe(false);
    });

    it("sleep never touches a tenant an operator holds", async () => {
      await e
        .api()
        .post("/admin/tenants")
        .set(auth)
        .send({
          tenantId: held,
          customerId: `${held}-corp`,
          plan: "trial",
          odooVersion: "17",
        });
      await e.converged(held, "active");
      await e.api().post(`/admin/tenants/${held}/suspend`).set(auth).expect(202);
      await e.converged(held, "suspended");
      await new Promise((r) => setTimeout(r, 2 * IDLE_MS));
      const t = await e.view(held);
      expect([t.status, t.desiredState, t.converged]).toEqual(["stopped", "suspended", true]);
      // Its host is routed nowhere while held: the platform's 404, not a wake.
      expect((await viaTraefik(e.p.httpsPort, hostOf(held), "/web/login")).status).toBe(404);
    });
  }

  it("0 failed requests, sent every 100 ms, through a plan change that restarts Odoo", async () => {
    await customer("/stand-in/config"); // awake (it may have slept)
    await untilStatus(tenant, "running");
    const results: string[] = [];
    let sending = true;
    const sender = (async () => {
      while (sending) {
        const r = await customer("/stand-in/config").catch((err) => ({
          status: 0,
          body: `${err}`,
        }));
        results.push(r.status === 200 ? "ok" : `${r.status} ${r.body.slice(0, 100)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const since = Date.now();
    await e
      .api()
      .post(`/admin/tenants/${tenant}/plan`)
      .set(auth)
      .send({ plan: "basic" })
      .expect(202);
    await eventually(
      async () => {
        const t = await e.view(tenant);
        return t.converged && t.plan === "basic" && t.status === "running";
      },
      240_000,
      "plan change applied",
    );
    sending = false;
    await sender;
    const failed = results.filter((s) => s !== "ok");
    console.log(
      `[plan change ${runtime}] trial -> basic, Odoo restarted ${await odooStarts(since)}x: ${failed.length}/${results.length} requests failed`,
    );
    expect(await odooStarts(since)).toBeGreaterThanOrEqual(1);
    expect(failed).toEqual([]);
  });

  it("a deleted tenant's host is the platform's 404", async () => {
    await e.api().delete(`/admin/tenants/${tenant}?skipBackup=true`).set(auth).expect(202);
    await e.converged(tenant, "deleted");
    expect((await viaTraefik(e.p.httpsPort, host, "/web/login")).status).toBe(404);
  });

  async function odooRunning(): Promise<boolean> {
    if (runtime === "swarm") {
      const [service] = await docker.listServices({
        filters: JSON.stringify({ name: [`odoo-${tenant}`] }),
      });
      return (service?.Spec?.Mode?.Replicated?.Replicas ?? 0) > 0;
    }
    const running = await docker.listContainers({
      filters: JSON.stringify({ name: [`^odoo-${tenant}$`] }),
    });
    return running.length > 0;
  }
}

/** A browser tab's websocket through Traefik (TLS, by host name), held open. */
function openWebsocket(port: number, host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: "127.0.0.1",
      port,
      path: "/websocket",
      servername: host,
      rejectUnauthorized: false,
      headers: {
        Host: host,
        Origin: `https://${host}`,
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.on("upgrade", (res, socket) =>
      res.statusCode === 101 ? resolve(socket) : reject(new Error(`upgrade: ${res.statusCode}`)),
    );
    req.on("response", (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
    req.on("error", reject);
    req.end();
  });
}
