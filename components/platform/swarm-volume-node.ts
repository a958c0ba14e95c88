import Docker from "dockerode";

/**
 * The placement constraint that keeps a Swarm service on the node holding its local volumes:
 * the configured node (an id, or else a hostname), or the node of the engine the control plane
 * (and the docker provider, which creates the volumes there) talks to.
 */
export async function swarmVolumeConstraint(configured?: string): Promise<string> {
  if (configured)
    return /^[a-z0-9]{25}$/.test(configured)
      ? `node.id == ${configured}`
      : `node.hostname == ${configured}`;
  const info = await new Docker().info(); // DOCKER_HOST or the local socket, like the provider
  const nodeId = info.Swarm?.NodeID;
  if (!nodeId)
    throw new Error("runtime swarm, but the Docker engine is not part of a swarm (no node id)");
  return `node.id == ${nodeId}`;
}
