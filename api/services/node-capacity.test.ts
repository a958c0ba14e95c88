import { placementRefusal, type NodeResources } from "./node-capacity";

const node = (hostname: string, cpus: number, memoryMb: number): NodeResources => ({
  id: `id-${hostname}`,
  hostname,
  cpus,
  memoryMb,
});
const small = node("small", 2, 8000);
const large = node("large", 8, 32000);

describe("placementRefusal: a plan's containers must fit one node", () => {
  it.each<
    [
      string,
      { cpus: number; memoryMb: number },
      NodeResources[],
      string | undefined,
      RegExp | undefined,
    ]
  >([
    ["fits the only node", { cpus: 2, memoryMb: 4096 }, [small], undefined, undefined],
    [
      "more CPUs than any node",
      { cpus: 4, memoryMb: 4096 },
      [small],
      undefined,
      /needs 4 CPUs.*largest node has 2 CPUs and 8000 MB \(small\)/,
    ],
    [
      "more memory than any node",
      { cpus: 1, memoryMb: 16384 },
      [small],
      undefined,
      /needs 1 CPUs and 16384 MB/,
    ],
    [
      "one large node is enough",
      { cpus: 8, memoryMb: 16384 },
      [small, large],
      undefined,
      undefined,
    ],
    [
      "pinned to its volumes' node: that one must fit",
      { cpus: 4, memoryMb: 4096 },
      [small, large],
      "node.hostname == small",
      /the node holding its volumes \(node.hostname == small\) has 2 CPUs/,
    ],
    ["pinned by id", { cpus: 4, memoryMb: 4096 }, [small, large], "node.id == id-large", undefined],
    [
      "pinned to a node that is gone",
      { cpus: 1, memoryMb: 1024 },
      [small],
      "node.hostname == gone",
      /is not in the cluster/,
    ],
    ["no node known: the engine decides", { cpus: 64, memoryMb: 1 }, [], undefined, undefined],
  ])("%s", (_name, limits, nodes, constraint, refused) => {
    const why = placementRefusal("premium", limits, nodes, constraint);
    if (refused) expect(why).toMatch(refused);
    else expect(why).toBeUndefined();
  });
});
