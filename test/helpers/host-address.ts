import type Docker from "dockerode";

/**
 * Where containers reach this machine: the engine's default bridge's gateway, the host's own
 * address on it. An engine whose bridge subnet comes from `default-address-pools` does not report
 * the gateway; it is then the subnet's first address, as Docker assigns it.
 */
export async function hostAddressForContainers(docker: Docker): Promise<string> {
  const bridge = await docker.getNetwork("bridge").inspect();
  const config = bridge.IPAM?.Config?.[0] as { Gateway?: string; Subnet?: string } | undefined;
  if (config?.Gateway) return config.Gateway;
  const subnet = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/\d+$/.exec(config?.Subnet ?? "");
  if (!subnet) throw new Error("the engine's default bridge has no IPv4 subnet");
  const [a, b, c, d] = subnet.slice(1).map(Number);
  return [a, b, c, d + 1].join(".");
}
