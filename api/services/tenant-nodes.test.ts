import { loadCatalog } from "../../catalog";
import type { TenantStore } from "../store/tenant-store";
import { chooseNode, TenantNodes, type NodeCandidate } from "./tenant-nodes";

const node = (hostname: string, o: Partial<NodeCandidate> = {}): NodeCandidate => ({
  hostname,
  available: true,
  cpus: 4,
  memoryMb: 8192,
  tenants: 0,
  ...o,
});
const small = { cpus: 1, memoryMb: 1024 };

describe("chooseNode", () => {
  it.each<[string, NodeCandidate[], string]>([
    ["the fewest tenants", [node("w1", { tenants: 3 }), node("w2", { tenants: 1 })], "w2"],
    ["by name on a tie", [node("w2"), node("w1")], "w1"],
    ["not a drained node", [node("w1", { available: false }), node("w2", { tenants: 9 })], "w2"],
    ["not one too small", [node("w1", { cpus: 0.5 }), node("w2", { tenants: 9 })], "w2"],
  ])("%s", (_, candidates, chosen) =>
    expect(chooseNode("basic", small, candidates)).toEqual({ node: chosen }),
  );

  it("says why no node can take the plan, node by node", () => {
    expect(
      chooseNode("premium", { cpus: 4, memoryMb: 8192 }, [
        node("w1", { available: false }),
        node("w2", { cpus: 2, memoryMb: 4096 }),
      ]),
    ).toEqual({
      refusal:
        "no tenant node can take plan premium (4 CPUs, 8192 MB per container): w1: not ready or drained; w2: 2 CPUs, 4096 MB",
    });
  });
});

describe("TenantNodes.place", () => {
  const placed: string[] = [];
  const nodes = (listed: Record<string, string> | undefined) =>
    new TenantNodes({
      tenants: {
        tenantsPerNode: async () => new Map([["w1", 2]]),
        placeOnNode: async (id: string, node: string) => (placed.push(`${id}@${node}`), node),
      } as unknown as TenantStore,
      catalog: loadCatalog(),
      tenantNodes: async () => listed,
      tenantLimitCap: async () => ({ cpus: 1 }),
      nodes: async () =>
        ["w1", "w2"].map((h) => ({ id: h, hostname: h, cpus: 2, memoryMb: 16384 })),
    });
  const fresh = { id: "t1", node: null, spec: { plan: "trial" }, appliedSpec: null, outputs: null };
  beforeEach(() => placed.splice(0));

  it("places a new tenant on the least used node, and records it", async () => {
    await expect(nodes({ w1: "tcp://w1", w2: "tcp://w2" }).place(fresh as never)).resolves.toBe(
      "w2",
    );
    expect(placed).toEqual(["t1@w2"]);
  });

  it.each([
    ["a platform without tenant nodes", undefined, fresh, undefined],
    ["a tenant already placed", { w2: "tcp://w2" }, { ...fresh, node: "w1" }, "w1"],
    // Its data is on the platform's volume node: a new node would start it empty.
    [
      "a tenant that ran before",
      { w2: "tcp://w2" },
      { ...fresh, outputs: { url: "x" } },
      undefined,
    ],
  ])("leaves %s where it is", async (_, listed, tenant, node) => {
    await expect(nodes(listed).place(tenant as never)).resolves.toBe(node);
    expect(placed).toEqual([]);
  });
});
