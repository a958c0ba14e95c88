// A real multi-node Swarm on this machine (issue #27, item 1): one manager and two workers, each a
// Docker engine of its own, join one Swarm on a network the test creates; images reach the workers
// through the cluster's registry by digest; a drained worker's tasks run on the other one.
import { readLocalImages } from "../automation/local-platform";
import { eventually } from "./api-harness";
import { SwarmCluster } from "./helpers/swarm-cluster";

const cluster = new SwarmCluster(`odoo-saas-cluster-${process.pid}`);
let upSeconds = 0;

beforeAll(async () => {
  upSeconds = await cluster.start();
  console.log(`[swarm cluster] 1 manager + 2 workers + registry up in ${upSeconds.toFixed(1)} s`);
}, 180_000);
afterAll(() => cluster.stop(), 120_000);

it("comes up in 90 s on 2 cores: a manager and two workers, every node ready", async () => {
  expect(upSeconds).toBeLessThanOrEqual(90);
  const nodes = (await cluster.manager.engine.listNodes()) as {
    Description: { Hostname: string };
    Spec: { Role: string };
    Status: { State: string };
  }[];
  expect(nodes.map((n) => [n.Description.Hostname, n.Spec.Role, n.Status.State]).sort()).toEqual([
    [`${cluster.name}-manager`, "manager", "ready"],
    [`${cluster.name}-worker-1`, "worker", "ready"],
    [`${cluster.name}-worker-2`, "worker", "ready"],
  ]);
});

it("every worker runs the same build, pulled from the registry by digest; a drained worker's task moves", async () => {
  const image = await cluster.publish(readLocalImages().ODOO_SAAS_REDIS_IMAGE);
  expect(image).toMatch(new RegExp(`^${cluster.registry}/odoo-saas/redis@sha256:[0-9a-f]{64}$`));
  // The workers have never seen it: only the registry can give it to them.
  for (const w of cluster.workers)
    expect(
      await w.engine.listImages({
        filters: { reference: [`${cluster.registry}/odoo-saas/redis`] },
      }),
    ).toEqual([]);
  await cluster.manager.engine.createService({
    Name: "probe",
    TaskTemplate: {
      ContainerSpec: { Image: image, Args: ["redis-server", "--save", ""] },
      Placement: { Constraints: ["node.role == worker"], MaxReplicas: 1 },
    },
    Mode: { Replicated: { Replicas: 2 } },
  } as never);
  await eventually(
    async () => (await cluster.placement("probe")).length === 2,
    120_000,
    "a probe task running on each worker",
  );
  expect(await cluster.placement("probe")).toEqual(cluster.workers.map((w) => w.name));
  for (const w of cluster.workers) {
    const [pulled] = (await w.engine.listImages({
      filters: { reference: [`${cluster.registry}/odoo-saas/redis`] },
    })) as { RepoDigests: string[] }[];
    expect(pulled.RepoDigests).toContain(image);
  }

  // One replica on a worker; drain that worker: it runs on the other one.
  await cluster.manager.engine.createService({
    Name: "mover",
    TaskTemplate: {
      ContainerSpec: { Image: image, Args: ["redis-server", "--save", ""] },
      Placement: { Constraints: ["node.role == worker"] },
    },
    Mode: { Replicated: { Replicas: 1 } },
  } as never);
  const [before] = await eventually(
    async () => {
      const placed = await cluster.placement("mover");
      return placed.length === 1 && placed;
    },
    60_000,
    "the mover running",
  );
  const drained = cluster.workers.find((w) => w.name === before)!;
  const node = cluster.manager.engine.getNode(drained.id);
  const { Version, Spec } = (await node.inspect()) as { Version: { Index: number }; Spec: object };
  await node.update({ version: Version.Index, ...Spec, Availability: "drain" });
  await eventually(
    async () => {
      const placed = await cluster.placement("mover");
      return placed.length === 1 && placed[0] !== before;
    },
    60_000,
    "the mover running on the other worker",
  );
}, 300_000);
