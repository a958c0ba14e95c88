// Odoo's health check on the real engine (declared through the docker provider, as tenants are):
// checked every interval until healthy, then only every `steadySeconds`; a failure is still
// noticed, and a restarted container is checked at once again (components/steady-healthcheck.ts).
import Docker from "dockerode";
import { readLocalImages } from "../automation/local-platform";
import { scratchRunner } from "./helpers/scratch-runner";
import { dockerWorkload } from "../components/workload";
import { odooHealthcheck } from "../components/tenant/odoo-options";
import { eventually } from "./api-harness";
import { ODOO_STAND_IN } from "./stand-ins";

const docker = new Docker();
const NAME = `odoo-saas-health-${process.pid}`;
const STEADY = 15;
const image = readLocalImages().ODOO_SAAS_ODOO_IMAGE_17;
const { runner, remove } = scratchRunner("health");
const target = {
  project: "odoo-saas-health-test",
  stack: "health",
  program: async () => {
    const c = dockerWorkload(
      "web",
      {
        runtime: "container",
        name: NAME,
        image,
        // A web server whose /web/health answers while /tmp/srv/web/health exists: the test decides.
        command: [
          "sh",
          "-c",
          "mkdir -p /tmp/srv/web && cd /tmp/srv && exec python3 -m http.server 8069",
        ],
        networks: [],
        healthcheck: odooHealthcheck("17", { intervalSeconds: 1, steadySeconds: STEADY }),
        running: true,
      },
      {},
    );
    return { id: c!.id };
  },
};
const container = () => docker.getContainer(NAME);
const status = async () => (await container().inspect()).State.Health?.Status;
async function shell(command: string) {
  const exec = await container().exec({ Cmd: ["sh", "-c", command] });
  const stream = await exec.start({});
  await new Promise((resolve) => stream.on("end", resolve).resume());
}
/** End times of the checks Docker remembers (its last five). */
const checkEnds = async () =>
  ((await container().inspect()).State.Health?.Log ?? []).map((l) => Date.parse(l.End));
const healthyWithin = (ms: number) =>
  eventually(async () => (await status()) === "healthy", ms, "healthy");

afterAll(async () => {
  // Removed first (python as PID 1 ignores SIGTERM: a stop would wait); the destroy's refresh
  // then finds it gone.
  await container()
    .remove({ force: true })
    .catch(() => undefined);
  await runner.destroy(target).catch(() => undefined);
  remove();
});

it(`checks at the interval until healthy, then every ${STEADY} s; notices a failure; a restart starts afresh ${ODOO_STAND_IN}`, async () => {
  await runner.up(target);
  await shell("touch /tmp/srv/web/health");
  await healthyWithin(8000);
  // The provider reads the check back as declared: nothing to change.
  expect((await runner.preview(target)).changes).toEqual([]);

  // Healthy: a check ends every steady period and interval (16 s), so 2 or 3 in 3 periods; the
  // interval alone would make about 40 (Docker keeps the last 5).
  const since = Date.now();
  await new Promise((r) => setTimeout(r, 3 * STEADY * 1000));
  const recent = (await checkEnds()).filter((t) => t >= since);
  expect(recent.length).toBeGreaterThanOrEqual(1);
  expect(recent.length).toBeLessThanOrEqual(3);

  // Odoo stops answering: unhealthy within a steady period and the retries.
  const failed = Date.now();
  await shell("rm /tmp/srv/web/health");
  await eventually(async () => (await status()) === "unhealthy", 40000, "unhealthy");
  expect(Date.now() - failed).toBeLessThan((STEADY + 3 * 2 + 5) * 1000);
  await shell("touch /tmp/srv/web/health");
  await healthyWithin(5000);

  // A restart (the marker of the last run is still in the container): checked at once again,
  // so healthy well before a steady period.
  await container().restart({ t: 1 });
  const restarted = Date.now();
  await healthyWithin(STEADY * 1000);
  expect(Date.now() - restarted).toBeLessThan(STEADY * 1000 - 2000);
}, 180000);
