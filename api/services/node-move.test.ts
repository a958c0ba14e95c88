import { loadCatalog } from "../../catalog";
import type { Tenant } from "../domain/tenant";
import type { BackupRecord } from "../store/backup-store";
import type { NodeState } from "./node-capacity";
import { NodeMove, type NodeMoveDeps } from "./node-move";

// Whether a move may start, and which kind: copying the files from a node that answers, or
// restoring them from the last backup when the tenant's node is lost (an operator's choice).
const ready: NodeState = { state: "ready", availability: "active", draining: false };
const down: NodeState = { state: "down", availability: "active", draining: false };
const backup = {
  id: "b-1",
  status: "succeeded",
  filestoreSnapshot: "snap-1",
  forgottenAt: null,
  startedAt: "2026-12-04T10:00:00.000Z",
} as BackupRecord;

function moves(o: { w1: NodeState | undefined; backups?: BackupRecord[]; moving?: boolean }) {
  const tenant = {
    id: "acme",
    node: "w1",
    nodeMove: o.moving ? { from: "w1", to: "w2", phase: "copied", operationId: "op-0" } : null,
    desiredState: "active",
    observedGeneration: 3,
    outputs: { url: "https://acme.example" },
    spec: { plan: "basic" },
    databasePlacement: null,
    databaseMove: null,
    retiredDatabases: [],
    appliedSpec: null,
  } as unknown as Tenant;
  const queued: unknown[] = [];
  const deps = {
    tenants: { get: async () => tenant },
    stacks: { platformSettings: async () => ({ tenantNodes: { w1: "tcp://w1", w2: "tcp://w2" } }) },
    catalog: loadCatalog(),
    nodes: async () => [{ id: "n2", hostname: "w2", cpus: 2, memoryMb: 4096 }],
    nodeStates: async () =>
      new Map(
        o.w1
          ? [
              ["w1", o.w1],
              ["w2", ready],
            ]
          : [["w2", ready]],
      ),
    backups: { list: async () => o.backups ?? [backup] },
    operations: {
      enqueue: async (_t: string, type: string, details: object) => ({ id: "op-1", type, details }),
    },
    queues: { enqueueTenantOp: async (job: unknown) => void queued.push(job) },
  } as unknown as NodeMoveDeps;
  return { move: new NodeMove(deps), queued };
}

describe("a move between nodes: when it may start", () => {
  it.each<[string, Parameters<typeof moves>[0], boolean, RegExp | null]>([
    ["its files copied from a ready node", { w1: ready }, false, null],
    [
      "refused from a backup while its node is ready",
      { w1: ready },
      true,
      /node w1 is ready: move it without fromBackup/,
    ],
    [
      "refused as a copy from a node that is down, naming the backup it could come from",
      { w1: down },
      false,
      /node w1 is down: its files cannot be copied from there.*fromBackup; backup b-1 of 2026-12-04T10:00:00.000Z/,
    ],
    [
      "refused as a copy from a node gone from the Swarm",
      { w1: undefined },
      false,
      /node w1 is not in the Swarm any more: its files cannot be copied/,
    ],
    ["restored from its backup when its node is down", { w1: down }, true, null],
    [
      "refused from a backup when none holds its files",
      { w1: down, backups: [{ ...backup, status: "failed" } as BackupRecord] },
      true,
      /has no verified backup holding its files: it can only come back with its node w1/,
    ],
    [
      "refused as the other kind while a move is under way",
      { w1: down, moving: true },
      true,
      /is moving to w2 with a copy of its files: finish that first/,
    ],
  ])("%s", async (_, setup, fromBackup, refusal) => {
    const { move, queued } = moves(setup);
    const asked = move.request("acme", "w2", { fromBackup });
    if (refusal) {
      await expect(asked).rejects.toMatchObject({
        code: "conflict",
        message: expect.stringMatching(refusal),
      });
      expect(queued).toEqual([]);
    } else {
      await asked;
      expect(queued).toEqual([
        {
          operationId: "op-1",
          tenantId: "acme",
          kind: "move",
          node: "w2",
          ...(fromBackup ? { fromBackup } : {}),
        },
      ]);
    }
  });
});

// The steps a move takes, and where a move that failed (or whose process died) picks up: from its
// recorded phase, never taking again what it already has, never touching the source's copy
// before the target's answers.
function world(failOnce: string) {
  let tenant = {
    id: "acme",
    customerId: "acme-corp",
    node: "w1",
    nodeMove: null,
    desiredState: "active",
    observedGeneration: 3,
    outputs: { url: "https://acme.example", runtime: "swarm", runtimeName: "odoo-acme" },
    spec: { plan: "basic", odooVersion: "17", domains: [] },
    databasePlacement: null,
    databaseMove: null,
    retiredDatabases: [],
    appliedSpec: null,
  } as unknown as Tenant;
  const steps: string[] = [];
  let snapshots = 0;
  const step = async <T>(name: string, value?: T): Promise<T> => {
    steps.push(name);
    if (name === failOnce) {
      failOnce = "";
      throw new Error(`${name} failed`);
    }
    return value as T;
  };
  const deps = {
    tenants: {
      get: async () => tenant,
      recordNodeMove: async (_id: string, m: unknown) =>
        void (tenant = { ...tenant, nodeMove: m } as Tenant),
      switchNode: async (_id: string, node: string, m: unknown) =>
        void (tenant = { ...tenant, node, nodeMove: m } as Tenant),
      recordApplied: async () => undefined,
    },
    stacks: {
      platformSettings: async () => ({ tenantNodes: { w1: "tcp://w1", w2: "tcp://w2" } }),
      up: (spec: { node: string; keptNodes?: string[] }) =>
        step(`up on ${spec.node}${spec.keptNodes?.length ? ` keeping ${spec.keptNodes}` : ""}`, {
          outputs: tenant.outputs,
        }),
      dataLocation: async (t: { node: string }) => ({
        volume: "odoo-acme-filestore",
        node: t.node,
      }),
    },
    catalog: loadCatalog(),
    nodes: async () => [{ id: "n2", hostname: "w2", cpus: 2, memoryMb: 4096 }],
    nodeStates: async () =>
      new Map([
        ["w1", ready],
        ["w2", ready],
      ]),
    backups: {
      take: () => {
        snapshots++;
        return step(`backup ${snapshots}`, {
          id: `b-${snapshots}`,
          filestoreSnapshot: `snap-${snapshots}`,
          filestoreEntries: 12,
        });
      },
    },
    engine: {
      restoreFiles: (snap: string) => step(`restore ${snap}`, 12),
      syncFiles: (held: string, snap: string) => step(`sync ${held} -> ${snap}`, 12),
    },
    runtime: { stop: () => step("stop Odoo", true) },
    edge: { answering: () => step("answering") },
    locks: { withLock: (_id: string, f: () => Promise<void>) => f() },
    operations: {
      start: async () => ({ id: "op-1" }),
      finish: async () => undefined,
    },
    progress: { publish: async () => undefined },
    metrics: {
      operations: { inc: () => undefined },
      nodeMoveDowntime: { observe: () => undefined },
    },
    logger: { child: () => ({ info: () => undefined }), info: () => undefined },
  } as unknown as NodeMoveDeps;
  return { move: new NodeMove(deps), steps, tenant: () => tenant };
}

describe("a move between nodes: resumed from its phase", () => {
  const job = { operationId: "op-1", tenantId: "acme", kind: "move" as const, node: "w2" };
  const whole = [
    "backup 1",
    "up on w1 keeping w2",
    "restore snap-1",
    "stop Odoo",
    "backup 2",
    "sync snap-1 -> snap-2",
    "up on w2 keeping w1",
    "answering",
    "up on w2",
  ];
  it("runs every step once when nothing fails", async () => {
    const w = world("none");
    await w.move.run(job);
    expect(w.steps).toEqual(whole);
    expect([w.tenant().node, w.tenant().nodeMove]).toEqual(["w2", null]);
  });

  it.each([
    ["the copy while it serves", "restore snap-1", ["up on w1 keeping w2", "restore snap-1"]],
    [
      "the copy of what changed",
      "sync snap-1 -> snap-2",
      ["stop Odoo", "backup 3", "sync snap-1 -> snap-3"],
    ],
    [
      "the switch",
      "up on w2 keeping w1",
      ["stop Odoo", "backup 3", "sync snap-2 -> snap-3", "up on w2 keeping w1"],
    ],
    ["the removal of the source's copy", "up on w2", ["up on w2"]],
  ])(
    "after %s failed: again from there, the source's copy kept until the target answers",
    async (_, failing, again) => {
      const w = world(failing);
      await expect(w.move.run(job)).rejects.toThrow(`${failing} failed`);
      const before = w.steps.length;
      expect(w.tenant().node).toBe(failing === "up on w2" ? "w2" : "w1");
      await w.move.run(job);
      const resumed = w.steps.slice(before);
      expect(resumed.slice(0, again.length)).toEqual(again);
      expect(resumed.filter((s) => s === "backup 1")).toEqual([]); // the warm backup is not taken again
      expect(resumed.at(-1)).toBe("up on w2");
      expect([w.tenant().node, w.tenant().nodeMove]).toEqual(["w2", null]);
    },
  );
});
