// Tenants on a Swarm of three nodes (test/helpers/swarm-cluster.ts), through the normal programs
// and the API: the platform stack run against the manager's engine with every image pulled from
// the cluster's registry by digest, its stateful services on the manager (its volume node), and
// the two workers listed as tenant nodes. The API places each new tenant on the worker with the
// fewest tenants; its volumes are made by that worker's engine, its Odoo pinned there, and
// Traefik on the manager routes to it over the overlay network (dnsrr: no IPVS here). Where every
// task runs is read back from the engine. The backup repository is one directory every node
// mounts at the same path, as a shared filesystem would be.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type Docker from "dockerode";
import { readLocalImages } from "../../automation/local-platform";
import { runCli } from "../../cli/cli";
import { ADMIN_TOKEN, eventually } from "../api-harness";
import { execOutput } from "../helpers/docker-output";
import { SwarmCluster } from "../helpers/swarm-cluster";
import { apiOnPlatform, auth } from "./api-on-platform";
import { BASE_DOMAIN, platformPorts, waitReachable } from "./platform";

const CLUSTER = "e2ecl";
const A = "cl-alpha";
const B = "cl-bravo";
const ports = platformPorts("e2el");
const backups = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-cluster-backups-"));
const cluster = new SwarmCluster(CLUSTER, 2, {
  managerPorts: [ports.http, ports.https, ports.pg],
  sharedDirectories: [backups],
});
/** The API's environment: its backup agent image is the cluster's, known once it is pushed. */
const env: Record<string, string> = { BACKUP_REPOSITORY: backups };
const timings: Record<string, unknown> = {};

/** The images the platform and its tenants run, pushed to the cluster's registry. */
async function publishImages(): Promise<Record<string, string>> {
  const local = readLocalImages();
  const images: Record<string, string> = {};
  for (const key of ["TRAEFIK", "POSTGRES", "PGBOUNCER", "REDIS", "SOCAT", "TENANT_GATEWAY"])
    images[`ODOO_SAAS_${key}_IMAGE`] = await cluster.publish(local[`ODOO_SAAS_${key}_IMAGE`]);
  images.ODOO_SAAS_ODOO_IMAGE_17 = await cluster.publish(local.ODOO_SAAS_ODOO_IMAGE_17);
  env.BACKUP_AGENT_IMAGE = await cluster.publish(local.ODOO_SAAS_BACKUP_AGENT_IMAGE);
  return images;
}

const e = apiOnPlatform("swarm", "e2el", [A, B], {
  env,
  platform: async () => {
    timings.clusterUpSeconds = await cluster.start();
    const started = Date.now();
    const images = await publishImages();
    timings.publishSeconds = (Date.now() - started) / 1000;
    // Everything from here on (the platform's and tenants' runs, the API) talks to the manager.
    process.env.DOCKER_HOST = await cluster.endpoint(cluster.manager);
    // The control plane here is this host, not the manager: it reaches the admin port through a
    // tunnel, as an operator's would.
    await cluster.tunnel(ports.pg);
    const tenantNodes = Object.fromEntries(
      await Promise.all(cluster.workers.map(async (w) => [w.name, await cluster.endpoint(w)])),
    );
    return {
      images,
      config: (c) => ({
        ...c,
        swarmVolumeNode: cluster.manager.name,
        swarmTenantNodes: tenantNodes,
      }),
    };
  },
  afterPlatform: async () => {
    delete process.env.DOCKER_HOST;
    await cluster.stop();
    fs.rmSync(backups, { recursive: true, force: true });
  },
});

const nodeNamed = (name: string) => cluster.nodes.find((n) => n.name === name)!;
/** The Swarm's view of its nodes (the fields these tests read). */
interface SwarmNode {
  ID: string;
  Version: { Index: number };
  Spec: { Role: string; Availability: string; Labels: Record<string, string> };
  Status: { State: string };
  Description: { Hostname: string };
}
const swarmNodes = async () => (await cluster.manager.engine.listNodes()) as SwarmNode[];
const swarmNode = async (hostname: string) =>
  (await swarmNodes()).find((n) => n.Description.Hostname === hostname)!;
const volumesOn = async (engine: Docker, tenantId: string) =>
  (
    (await engine.listVolumes({ filters: { label: [`odoo-saas.tenant=${tenantId}`] } })).Volumes ??
    []
  )
    .map((v) => v.Name)
    .sort();

describe("tenants on a Swarm of three nodes", () => {
  it("the cluster comes up in 90 s on 2 cores: a manager and two workers, every node ready", async () => {
    expect(timings.clusterUpSeconds).toBeLessThanOrEqual(90);
    const nodes = await swarmNodes();
    expect(nodes.map((n) => [n.Description.Hostname, n.Spec.Role, n.Status.State]).sort()).toEqual([
      [`${CLUSTER}-manager`, "manager", "ready"],
      [`${CLUSTER}-worker-1`, "worker", "ready"],
      [`${CLUSTER}-worker-2`, "worker", "ready"],
    ]);
  }, 400_000);

  it("places each new tenant on its own worker, its volumes made there; Traefik on the manager routes to both", async () => {
    for (const [id, plan] of [
      [A, "basic"],
      [B, "trial"],
    ]) {
      await e
        .api()
        .post("/admin/tenants")
        .set(auth)
        .send({ tenantId: id, customerId: `${id}-corp`, plan, odooVersion: "17" })
        .expect(202);
      await e.converged(id, "active");
    }
    const a = await e.view(A);
    const b = await e.view(B);
    // The first to the first worker by name, the second to the one with fewer tenants.
    expect([a.node, b.node]).toEqual([`${CLUSTER}-worker-1`, `${CLUSTER}-worker-2`]);
    expect(await cluster.placement(`odoo-${A}`)).toEqual([a.node]);
    expect(await cluster.placement(`odoo-${B}`)).toEqual([b.node]);
    // Each worker got the stand-in only from the registry, by digest (it never had this host's).
    for (const w of cluster.workers) {
      const images = (await w.engine.listImages()) as { RepoDigests?: string[] }[];
      expect(images.flatMap((i) => i.RepoDigests ?? [])).toContain(
        (await e.p.tenants.platformSettings())?.odooImages?.["17"],
      );
    }
    // Each tenant's volume exists on its node only.
    expect(await volumesOn(nodeNamed(a.node).engine, A)).toEqual([`odoo-${A}-filestore`]);
    expect(await volumesOn(nodeNamed(b.node).engine, A)).toEqual([]);
    expect(await volumesOn(cluster.manager.engine, A)).toEqual([]);
    // The platform's stateful services (Traefik with its certificates, the shared PostgreSQL,
    // Redis) on the manager, its volume node; the poolers, which hold nothing, wherever Swarm
    // puts them.
    const services = (
      (await cluster.manager.engine.listServices({
        filters: { label: ["odoo-saas.platform=e2el"] },
      })) as { Spec: { Name: string } }[]
    ).map((x) => x.Spec.Name);
    const placed = Object.fromEntries(
      await Promise.all(services.map(async (name) => [name, await cluster.placement(name)])),
    );
    const pinned = ["e2el-traefik", "e2el-postgres", "e2el-redis"];
    expect(Object.keys(placed).sort()).toEqual(
      [...pinned, "e2el-postgres-pooler-2", "e2el-postgres-pooler-3"].sort(),
    );
    for (const name of pinned) expect([name, placed[name]]).toEqual([name, [cluster.manager.name]]);
    for (const name of services.filter((n) => !pinned.includes(n)))
      expect(placed[name]).toHaveLength(1);
    console.log(`platform tasks: ${JSON.stringify(placed)}`);
    // Through Traefik on the manager, over the overlay network, to Odoo on each worker.
    await e.attach(A, "alpha.txt", "written on worker-1");
    await e.attach(B, "bravo.txt", "written on worker-2");
    expect(await e.attachments(A)).toEqual(["alpha.txt"]);
    expect(await e.attachments(B)).toEqual(["bravo.txt"]);
  }, 400_000);

  it("suspend, resume and a plan change keep the tenant on its node with its data", async () => {
    const node = (await e.view(A)).node;
    await e.api().post(`/admin/tenants/${A}/suspend`).set(auth).expect(202);
    await e.converged(A, "suspended");
    expect(await cluster.placement(`odoo-${A}`)).toEqual([]);
    await e.api().post(`/admin/tenants/${A}/resume`).set(auth).expect(202);
    await e.converged(A, "active");
    expect(await cluster.placement(`odoo-${A}`)).toEqual([node]);
    expect(await e.attachments(A)).toEqual(["alpha.txt"]);

    await e.api().post(`/admin/tenants/${A}/plan`).set(auth).send({ plan: "standard" }).expect(202);
    await e.converged(A, "active");
    expect((await e.view(A)).plan).toBe("standard");
    expect(await cluster.placement(`odoo-${A}`)).toEqual([node]);
    expect(await e.attachments(A)).toEqual(["alpha.txt"]);
  }, 400_000);

  it("backs up and restores a tenant on a worker: the agent runs on the node holding its volume", async () => {
    const queued = await e.api().post(`/admin/tenants/${A}/backups`).set(auth).expect(202);
    const backup = await e.operationDone(queued.body.id);
    await e.attach(A, "after-backup.txt");
    expect((await e.attachments(A)).sort()).toEqual(["after-backup.txt", "alpha.txt"]);
    const restored = await e
      .api()
      .post(`/admin/tenants/${A}/restore`)
      .set(auth)
      .send({ backupId: backup.details.backupId })
      .expect(202);
    await e.operationDone(restored.body.id);
    expect(await e.attachments(A)).toEqual(["alpha.txt"]);
    // The agents ran where the volume is: the worker pulled the agent image, the manager did not
    // need it for the volume (it ran only the repository's own checks).
    const node = nodeNamed((await e.view(A)).node);
    expect(
      (await node.engine.listImages()).some((i) =>
        (i.RepoDigests ?? []).some((d) => env.BACKUP_AGENT_IMAGE.endsWith(d.split("@")[1])),
      ),
    ).toBe(true);
  }, 400_000);
});

describe("a tenant moved between nodes", () => {
  it("`tenants move` copies its files to the other worker, runs it there and removes the old copy", async () => {
    const from = (await e.view(A)).node;
    const to = cluster.workers.map((w) => w.name).find((n) => n !== from)!;
    // 250 MB of files that do not compress, written where its Odoo writes.
    const [task] = await nodeNamed(from).engine.listContainers({
      filters: { label: [`com.docker.swarm.service.name=odoo-${A}`] },
    });
    await execOutput(nodeNamed(from).engine.getContainer(task.Id), [
      "bash",
      "-c",
      "head -c 250M /dev/urandom > /var/lib/odoo/payload.bin && sync",
    ]);
    // The floor, in this run: a backup of it and a restore of that backup, through the API.
    const timed = async (path: string, body?: object) => {
      const started = Date.now();
      const queued = await e.api().post(path).set(auth).send(body).expect(202);
      const op = await e.operationDone(queued.body.id);
      return { seconds: (Date.now() - started) / 1000, op };
    };
    const backup = await timed(`/admin/tenants/${A}/backups`);
    const restore = await timed(`/admin/tenants/${A}/restore`, {
      backupId: backup.op.details.backupId,
    });
    timings.floorBackupSeconds = backup.seconds;
    timings.floorRestoreSeconds = restore.seconds;
    const out: string[] = [];
    const errors: string[] = [];
    const code = await runCli(["tenants", "move", A, to], {
      env: { ADMIN_TOKEN, ODOO_SAAS_API_URL: e.h.runtime.url! },
      stdout: (t) => out.push(t),
      stderr: (t) => errors.push(t),
    });
    expect([code, errors.filter((l) => l.startsWith("error"))]).toEqual([0, []]);
    expect(out.join("")).toMatch(
      new RegExp(`^${A}: moved from ${from} to ${to} \\(\\d+\\.\\d s without answering\\)\\n$`),
    );
    const view = await e.view(A);
    expect([view.node, view.converged]).toEqual([to, true]);
    expect(await cluster.placement(`odoo-${A}`)).toEqual([to]);
    expect(await e.attachments(A)).toEqual(["alpha.txt"]);
    // One copy, on the new node; the old one went once the new one answered.
    expect(await volumesOn(nodeNamed(to).engine, A)).toEqual([`odoo-${A}-filestore`]);
    expect(await volumesOn(nodeNamed(from).engine, A)).toEqual([]);
    const op = (await e.api().get(`/admin/operations/${view.lastOperation.id}`).set(auth)).body;
    expect(op).toMatchObject({ type: "move", status: "succeeded", details: { from, to } });
    timings.moveDowntimeSeconds = op.details.downtimeMs / 1000;
    timings.moveSteps = op.details.steps;
    const ratio = op.details.downtimeMs / 1000 / (backup.seconds + restore.seconds);
    timings.moveToFloor = ratio;
    // The target is 1.3, met alone and beside the soak (1.07, 1.12: docs/benchmarks.md); in CI
    // two other suites share the 2 cores between the floor and the move (1.63 seen): the bound
    // catches a move that waits on something (a retry, a timeout), not a loaded machine.
    expect(ratio).toBeLessThanOrEqual(2);
    // It serves and stores on its new node; a second move there is refused.
    await e.attach(A, "after-move.txt");
    await e.api().post(`/admin/tenants/${A}/move`).set(auth).send({ node: to }).expect(409);
    await e.api().post(`/admin/tenants/${A}/move`).set(auth).send({ node: "nowhere" }).expect(422);
  }, 400_000);
});

describe("a tenant with a database server of its own", () => {
  it("its server runs pinned beside its files on its worker; a drain of that worker reports it stuck and moves nothing", async () => {
    const C = "cl-charlie";
    await e
      .api()
      .post("/admin/tenants")
      .set(auth)
      .send({ tenantId: C, customerId: `${C}-corp`, plan: "premium", odooVersion: "17" })
      .expect(202);
    await e.converged(C, "active");
    const node = (await e.view(C)).node;
    expect(cluster.workers.map((w) => w.name)).toContain(node);
    // Odoo and its PostgreSQL on the worker holding their volumes, and those volumes there only.
    expect(await cluster.placement(`odoo-${C}`)).toEqual([node]);
    expect(await cluster.placement(`odoo-${C}-postgres`)).toEqual([node]);
    expect(await volumesOn(nodeNamed(node).engine, C)).toEqual([
      `odoo-${C}-filestore`,
      `odoo-${C}-postgres-data`,
    ]);
    for (const other of cluster.nodes.filter((n) => n.name !== node))
      expect(await volumesOn(other.engine, C)).toEqual([]);
    await e.attach(C, "charlie.txt");

    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(["nodes", "drain", node], {
      env: { ADMIN_TOKEN, ODOO_SAAS_API_URL: e.h.runtime.url! },
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
    });
    expect(code).not.toBe(0);
    expect(err.join("")).toMatch(
      new RegExp(`${C}: cannot leave ${node}: its dedicated database server cannot move`),
    );
    expect((await e.view(C)).nodeProblem).toMatch(/is being drained: it runs on there/);
    await eventually(
      async () =>
        e.h.smtp.messages.some((m) =>
          m.raw.includes(`[odoo-saas] 1 tenant(s) cannot leave node ${node}`),
        ),
      30_000,
      "the operator told",
    );
    expect(await cluster.placement(`odoo-${C}`)).toEqual([node]);
    expect(await e.attachments(C)).toEqual(["charlie.txt"]);

    // The operator keeps the node: its mark goes, and this tenant with it (the suite goes on).
    const n = await swarmNode(node);
    const labels = { ...n.Spec.Labels };
    delete labels["odoo-saas.draining"];
    await cluster.manager.engine
      .getNode(n.ID)
      .update({ version: n.Version.Index, ...n.Spec, Labels: labels });
    await e.api().delete(`/admin/tenants/${C}?skipBackup=true`).set(auth).expect(202);
    await e.h.converged(C, "deleted", { timeoutMs: 240_000 });
    expect(await volumesOn(nodeNamed(node).engine, C)).toEqual([]);
  }, 400_000);
});

describe("a node drained for maintenance", () => {
  it("`nodes drain` moves its tenants off one by one, then Swarm moves what holds nothing; all answer", async () => {
    const node = (await e.view(B)).node;
    const other = cluster.workers.map((w) => w.name).find((n) => n !== node)!;
    const on = async (n: string) =>
      (await Promise.all([A, B].map(async (id) => ((await e.view(id)).node === n ? id : ""))))
        .filter(Boolean)
        .sort();
    const leaving = await on(node);
    expect(leaving.length).toBeGreaterThanOrEqual(1);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(["nodes", "drain", node], {
      env: { ADMIN_TOKEN, ODOO_SAAS_API_URL: e.h.runtime.url! },
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
    });
    expect([code, err.filter((l) => l.startsWith("error"))]).toEqual([0, []]);
    expect(out.join("")).toBe(
      [...leaving.map((id) => `${id}: moved to ${other}\n`), `${node}: drained\n`].join(""),
    );
    expect(await on(node)).toEqual([]);
    expect((await swarmNode(node)).Spec.Availability).toBe("drain");
    // Nothing runs on the drained node any more: the poolers that did went elsewhere.
    const services = (
      (await cluster.manager.engine.listServices()) as { Spec: { Name: string } }[]
    ).map((x) => x.Spec.Name);
    await eventually(
      async () => {
        for (const s of services) if ((await cluster.placement(s)).includes(node)) return false;
        return true;
      },
      90_000,
      `every task off ${node}`,
    );
    for (const id of [A, B]) {
      expect((await e.view(id)).nodeProblem).toBeNull();
      expect((await e.attachments(id)).length).toBeGreaterThan(0);
    }
  }, 400_000);
});

describe("the manager restarted", () => {
  it("loses nothing: every service back on its node, the tenants' data there, the API's runs work", async () => {
    const services = (
      (await cluster.manager.engine.listServices()) as { Spec: { Name: string } }[]
    ).map((x) => x.Spec.Name);
    const before = Object.fromEntries(
      await Promise.all(services.map(async (n) => [n, await cluster.placement(n)])),
    );
    const address = await cluster.endpoint(cluster.manager);
    await cluster.manager.container.restart({ t: 10 });
    expect(await cluster.endpoint(cluster.manager)).toBe(address);
    await eventually(
      async () => {
        for (const n of services) if ((await cluster.placement(n)).length !== 1) return false;
        return true;
      },
      180_000,
      "every service running again",
    );
    // The stateful ones where they were (pinned); the rest somewhere.
    for (const n of ["e2el-traefik", "e2el-postgres", "e2el-redis", `odoo-${A}`, `odoo-${B}`])
      expect([n, await cluster.placement(n)]).toEqual([n, before[n]]);
    // Routing comes back once the restarted Traefik reads Swarm again and reaches the workers'
    // tasks over the overlay: 80 s alone, over 180 s once under a full test run's load.
    const restarted = Date.now();
    await waitReachable(e.p, `${A}.${BASE_DOMAIN}`, 360_000);
    console.log(`[cluster] manager restarted -> routing again in ${Date.now() - restarted} ms`);
    expect(await e.attachments(A)).toContain("alpha.txt");
    expect(await e.attachments(B)).toEqual(["bravo.txt"]);
    await e.api().post(`/admin/tenants/${B}/backups`).set(auth).expect(202);
    await e.api().post(`/admin/tenants/${B}/plan`).set(auth).send({ plan: "basic" }).expect(202);
    await e.converged(B, "active");
    expect((await e.view(B)).plan).toBe("basic");
    expect(await e.attachments(B)).toEqual(["bravo.txt"]);
  }, 700_000);
});

describe("a worker lost", () => {
  afterAll(() => console.log(`cluster timings: ${JSON.stringify(timings)}`));

  it("what holds nothing runs elsewhere within 60 s; its tenants say why they are down, are counted, and come back with it", async () => {
    // The drained worker takes tasks again; the other one, with both tenants, dies.
    const drained = (await swarmNodes()).find((n) => n.Spec.Availability === "drain")!;
    await cluster.manager.engine
      .getNode(drained.ID)
      .update({ version: drained.Version.Index, ...drained.Spec, Availability: "active" });
    const lost = nodeNamed((await e.view(A)).node);
    expect((await e.view(B)).node).toBe(lost.name);
    const address = await cluster.endpoint(lost);
    await lost.container.kill();
    const killed = Date.now();
    const services = (
      (await cluster.manager.engine.listServices({
        filters: { label: ["odoo-saas.platform=e2el"] },
      })) as { Spec: { Name: string } }[]
    ).map((x) => x.Spec.Name);
    await eventually(
      async () => {
        for (const name of services) {
          const placed = await cluster.placement(name);
          if (!placed.length || placed.includes(lost.name)) return false;
        }
        return true;
      },
      60_000,
      `every platform task running off ${lost.name}`,
    );
    timings.rescheduledSeconds = (Date.now() - killed) / 1000;
    for (const id of [A, B])
      await eventually(
        async () =>
          /^its node .* is down: it runs again when the node is back/.test(
            (await e.view(id)).nodeProblem ?? "",
          ),
        60_000,
        `${id} shown as down with its node`,
      );
    const metrics = (await e.api().get("/metrics")).text;
    expect(metrics).toContain(`odoo_saas_stranded_tenants{node="${lost.name}"} 2`);
    // A change asked for meanwhile: its run fails naming the node's engine, nothing is lost, and
    // it is applied once the node is back.
    await e.api().post(`/admin/tenants/${B}/plan`).set(auth).send({ plan: "standard" }).expect(202);
    const unreachable = `the Docker engine at ${address} cannot be reached`;
    let said = "";
    try {
      await eventually(
        async () => (said = (await e.view(B)).lastError ?? "").includes(unreachable),
        120_000,
        `${B}'s run failing on ${lost.name}'s engine`,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; its last error: ${said || "none"}`);
    } finally {
      // The node comes back (same engine, same disk): its tenants run and answer again.
      await lost.container.start();
    }
    expect(await cluster.endpoint(lost)).toBe(address);
    for (const id of [A, B])
      await eventually(
        async () => (await e.view(id)).nodeProblem === null,
        120_000,
        `${id}'s node back`,
      );
    await e.h.converged(B, "active", { timeoutMs: 240_000 });
    expect((await e.view(B)).plan).toBe("standard");
    expect(await e.attachments(A)).toContain("alpha.txt");
    expect(await e.attachments(B)).toEqual(["bravo.txt"]);
  }, 400_000);

  it("lost for good: its tenants are restored onto the other worker from their last backups, on an operator's word", async () => {
    const lost = nodeNamed((await e.view(A)).node);
    const other = cluster.workers.find((w) => w !== lost)!;
    await e.operationDone(
      (await e.api().post(`/admin/tenants/${A}/backups`).set(auth).expect(202)).body.id,
    );
    const backedUp = await e.attachments(A);
    await e.attach(A, "after-last-backup.txt"); // lost with the node: the backup never saw it
    await lost.container.kill();
    await eventually(
      async () => /is down/.test((await e.view(A)).nodeProblem ?? ""),
      60_000,
      `${A} shown as down`,
    );
    // A move would copy its files from the node: refused, saying what the operator can do.
    const refused = await e
      .api()
      .post(`/admin/tenants/${A}/move`)
      .set(auth)
      .send({ node: other.name });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/its files cannot be copied from there.*fromBackup/);

    for (const id of [A, B]) {
      const queued = await e
        .api()
        .post(`/admin/tenants/${id}/move`)
        .set(auth)
        .send({ node: other.name, fromBackup: true })
        .expect(202);
      const op = await e.operationDone(queued.body.id);
      expect(op.details).toMatchObject({ from: lost.name, to: other.name, downtimeMs: null });
      const view = await e.view(id);
      expect([view.node, view.nodeProblem, view.nodeMove]).toEqual([other.name, null, null]);
      expect(await cluster.placement(`odoo-${id}`)).toEqual([other.name]);
      expect(await volumesOn(other.engine, id)).toEqual([`odoo-${id}-filestore`]);
    }
    // The backup's files are back; the one written after it is not (its record, in the shared
    // database, says so).
    expect((await e.attachments(A)).sort()).toEqual(
      [...backedUp, "after-last-backup.txt (missing on disk)"].sort(),
    );
    expect(await e.attachments(B)).toEqual(["bravo.txt"]);
    // Its stack runs on without the lost node: a plan change converges.
    await e.api().post(`/admin/tenants/${A}/plan`).set(auth).send({ plan: "basic" }).expect(202);
    await e.converged(A, "active");
    expect((await e.view(A)).plan).toBe("basic");
    // The operator's last step: the node leaves the Swarm. Until then Swarm counts the tasks it
    // had there as running, and they hold the platform's networks (a platform destroy failed:
    // "network … is in use by task …").
    await cluster.manager.engine.getNode((await swarmNode(lost.name)).ID).remove({ force: true });
    expect((await swarmNodes()).map((n) => n.Description.Hostname)).not.toContain(lost.name);
  }, 400_000);
});
