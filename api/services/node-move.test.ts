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
