import { engineOptions } from "../components/docker-endpoint";

/** Where engine runs reach Docker: DOCKER_HOST, as the docker provider and dockerode read it. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST || "unix:///var/run/docker.sock";
}

/**
 * Whether an engine run's error text says it could not reach the Docker engine at `endpoint`
 * (stopped, restarting, its socket gone): the provider's own client names the address, and so do
 * Node's socket errors in a dynamic provider.
 */
export function dockerEngineUnreachable(text: string, endpoint = dockerEndpoint()): boolean {
  const address = endpoint.replace(/^(unix|tcp|https?):\/\//, "");
  return text
    .split("\n")
    .some(
      (line) =>
        line.includes(address) &&
        /Cannot connect to the Docker daemon|\b(ENOENT|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH)\b|socket hang up|connection refused|no route to host|host is unreachable|no such file or directory|i\/o timeout|use of closed network connection/i.test(
          line,
        ),
    );
}

/**
 * A connection that dropped mid-request without saying to what (Node's "socket hang up" when an
 * engine dies under a dynamic provider's request): which engine, if any, is found by asking.
 */
export function connectionDropped(text: string): boolean {
  // The last: the provider SDK's complaint when a create's request to the engine died with the
  // engine (no state, and no error of its own to name it).
  return /socket hang up|\bECONNRESET\b|\bEPIPE\b|expected non-nil error with nil state/.test(text);
}

/** Whether the engine at `endpoint` answers a ping within `timeoutMs`. */
export async function engineAnswers(endpoint: string, timeoutMs = 3000): Promise<boolean> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Docker = require("dockerode") as typeof import("dockerode");
  try {
    await new Docker({ ...engineOptions(endpoint), timeout: timeoutMs }).ping();
    return true;
  } catch {
    return false;
  }
}

/**
 * The engine among `endpoints` that a failed run could not reach: one its error text names, else,
 * when a connection dropped unnamed, the first that does not answer now. Undefined when the
 * failure is not an engine's absence.
 */
export async function unreachableEngine(
  text: string,
  endpoints: string[],
  answers: (endpoint: string) => Promise<boolean> = engineAnswers,
): Promise<string | undefined> {
  const named = endpoints.find((e) => dockerEngineUnreachable(text, e));
  if (named || !connectionDropped(text)) return named;
  for (const e of endpoints) if (!(await answers(e))) return e;
  return undefined;
}

/**
 * Whether an engine run failed on Swarm's optimistic concurrency: a service changed between the
 * provider's read of its version and its update (its previous rolling update finishing, a task
 * rescheduled). Nothing was applied; the same run again reads the new version.
 */
export function swarmVersionConflict(text: string): boolean {
  return /update out of sequence/.test(text);
}

/**
 * A create whose answer was lost with its engine (stopped mid-request) leaves a network the
 * stack's state does not know, and every later run fails "network with name … already exists".
 * Removes that network when it is plainly the leftover: labelled for `tenant`, nothing attached.
 * True when one was removed (the run can be made again).
 */
export async function removeOrphanedNetwork(
  text: string,
  tenant: string,
  endpoints: string[],
): Promise<boolean> {
  const name = /network with name (\S+) already exists/.exec(text)?.[1];
  if (!name) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Docker = require("dockerode") as typeof import("dockerode");
  for (const endpoint of endpoints) {
    const network = new Docker(engineOptions(endpoint)).getNetwork(name);
    const info = await network.inspect().catch(() => undefined);
    if (!info) continue;
    const ours = info.Labels?.["odoo-saas.tenant"] === tenant;
    if (!ours || Object.keys(info.Containers ?? {}).length > 0) return false;
    return network.remove().then(
      () => true,
      () => false,
    );
  }
  return false;
}
