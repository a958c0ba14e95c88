import { nodeProblem, strandedPerNode } from "./node-drain";

const states = new Map([
  ["w1", { state: "ready", availability: "active", draining: false }],
  ["w2", { state: "down", availability: "active", draining: false }],
  ["w3", { state: "ready", availability: "drain", draining: false }],
  ["w4", { state: "ready", availability: "active", draining: true }],
]);
const on = (node: string | null, o: { moving?: boolean; deleted?: boolean } = {}) => ({
  node,
  nodeMove: o.moving ? { to: "w1" } : null,
  desiredState: o.deleted ? "deleted" : "active",
});

describe("a tenant's node problem", () => {
  it.each<[string, ReturnType<typeof on>, RegExp | undefined, boolean | undefined]>([
    ["none on a ready, active node", on("w1"), undefined, undefined],
    ["none without a node of its own", on(null), undefined, undefined],
    ["none while it moves off", on("w2", { moving: true }), undefined, undefined],
    ["down with its node", on("w2"), /^its node w2 is down: it runs again when/, true],
    ["down on a drained node", on("w3"), /^its node w3 is drained and its volume is there/, true],
    [
      "running on a node being drained",
      on("w4"),
      /^its node w4 is being drained: it runs on/,
      false,
    ],
    [
      "down when its node left the Swarm",
      on("w9"),
      /^its node w9 is not in the Swarm any more/,
      true,
    ],
  ])("%s", (_, tenant, reason, down) => {
    const p = nodeProblem(tenant, states);
    expect(p?.reason).toEqual(reason ? expect.stringMatching(reason) : undefined);
    expect(p?.down).toBe(down);
  });

  it("counts the tenants that cannot run, per node (not the deleted, the moving or the draining)", () => {
    expect(
      strandedPerNode(
        [
          on("w2"),
          on("w2"),
          on("w2", { deleted: true }),
          on("w2", { moving: true }),
          on("w3"),
          on("w4"),
          on("w1"),
        ],
        states,
      ),
    ).toEqual({ w2: 2, w3: 1 });
  });

  it("says nothing when the engine is no Swarm manager (no node states)", () =>
    expect(nodeProblem(on("w2"), new Map())).toBeUndefined());
});
