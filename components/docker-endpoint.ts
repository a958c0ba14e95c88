/**
 * How dockerode reaches one Docker engine: the options for an endpoint URL as DOCKER_HOST spells
 * it. Handed as plain data to the dynamic providers that talk to a node's engine (they are
 * serialized and cannot import this module).
 */
export interface EngineOptions {
  socketPath?: string;
  /** Empty with a socket: dockerode's defaults (from DOCKER_HOST) would otherwise win over it. */
  host: string;
  port?: number;
  protocol?: "http";
}

/**
 * `unix:///path` or `tcp://host:port` (Docker's plain-HTTP port 2375 by default). A `tcp://`
 * engine has no TLS: it belongs on the cluster's private network, reached by the control plane
 * alone (docs/platform.md#tenants-on-several-nodes).
 */
export function engineOptions(endpoint: string): EngineOptions {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`Docker endpoint "${endpoint}" is not a URL (unix:///… or tcp://host:port)`);
  }
  if (url.protocol === "unix:") return { socketPath: url.pathname, host: "" };
  if (url.protocol === "tcp:" && url.hostname)
    return { host: url.hostname, port: Number(url.port || 2375), protocol: "http" };
  throw new Error(
    `Docker endpoint "${endpoint}": only unix:///… and tcp://host:port are supported`,
  );
}
