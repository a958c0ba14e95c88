// A container's CPU and memory limits change in place on the real engine (the docker provider
// plus components/container-cpu-limit.ts): the same container keeps running, never restarted,
// and answers every request made every 100 ms through the change.
import * as fs from "node:fs";
import * as path from "node:path";
import * as http from "node:http";
import Docker from "dockerode";
import { scratchRunner } from "./helpers/scratch-runner";
import { dockerWorkload } from "../components/workload";

const docker = new Docker();
const NAME = `odoo-saas-resize-${process.pid}`;
const PORT = 17000 + (process.pid % 1000); // clear of the e2e platforms' 18xxx ports
const image = fs
  .readFileSync(path.join(__dirname, "..", "images", "images.env"), "utf8")
  .match(/^ODOO_SAAS_ODOO_IMAGE_17=(.+)$/m)![1];
const { runner, remove } = scratchRunner("resize");
const target = (limits: { cpus: number; memoryMb: number }) => ({
  project: "odoo-saas-resize-test",
  stack: "resize",
  program: async () => {
    const c = dockerWorkload(
      "web",
      {
        runtime: "container",
        name: NAME,
        image,
        // The stand-in's own web server: enough to answer /web/health without a database.
        command: ["python3", "-m", "http.server", "8069"],
        networks: [],
        ports: [{ internal: 8069, external: PORT, hostIp: "127.0.0.1" }],
        limits,
        running: true,
      },
      {},
    );
    return { id: c!.id };
  },
});
const inspect = () => docker.getContainer(NAME).inspect();
const get = () =>
  new Promise<number>((resolve) => {
    const req = http.get({ host: "127.0.0.1", port: PORT, path: "/", timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
  });

afterAll(async () => {
  await runner.destroy(target({ cpus: 1, memoryMb: 256 })).catch(() => undefined);
  await docker
    .getContainer(NAME)
    .remove({ force: true })
    .catch(() => undefined);
  remove();
});

it("CPU and memory change in place: same container, no restart, no failed request", async () => {
  const first = await runner.up(target({ cpus: 0.5, memoryMb: 256 }));
  const before = await inspect();
  expect(before.HostConfig).toMatchObject({ NanoCpus: 5e8, Memory: 256 * 2 ** 20 });
  for (let i = 0; (await get()) !== 200; i++) {
    if (i > 100) throw new Error("the container never answered");
    await new Promise((r) => setTimeout(r, 100));
  }

  let done = false;
  const statuses: number[] = [];
  const probe = (async () => {
    while (!done) {
      statuses.push(await get());
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const resized = await runner.up(target({ cpus: 1.5, memoryMb: 512 })).finally(() => {
    done = true;
  });
  await probe;

  const after = await inspect();
  expect(after.Id).toBe(before.Id);
  expect(after.State.StartedAt).toBe(before.State.StartedAt);
  expect(after.HostConfig).toMatchObject({
    NanoCpus: 1.5e9,
    Memory: 512 * 2 ** 20,
    MemorySwap: 512 * 2 ** 20,
  });
  expect(resized.changes.replace ?? 0).toBe(0);
  expect(resized.outputs.id).toBe(first.outputs.id);
  expect(statuses.length).toBeGreaterThan(5);
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
  console.log(`[resize in place] ${statuses.length} requests every 100 ms, 0 failed`);

  // Nothing left to do: a second up changes nothing (the CPU limit is not read back as a diff).
  const again = await runner.preview(target({ cpus: 1.5, memoryMb: 512 }));
  expect(again.changes.filter((c) => c.op !== "same")).toEqual([]);
});
