/** Where engine runs reach Docker: DOCKER_HOST, as the docker provider and dockerode read it. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST || "unix:///var/run/docker.sock";
}

/**
 * Whether an engine run failed because the Docker engine could not be reached (stopped,
 * restarting, its socket gone), from the error text of the provider (Docker's own client) or of a
 * dynamic provider (Node's socket errors on the endpoint's address).
 */
export function dockerEngineUnreachable(text: string, endpoint = dockerEndpoint()): boolean {
  if (/Cannot connect to the Docker daemon|Is the docker daemon running/i.test(text)) return true;
  const address = endpoint.replace(/^(unix|tcp|https?):\/\//, "");
  return text
    .split("\n")
    .some(
      (line) =>
        line.includes(address) &&
        /\b(ENOENT|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH)\b|socket hang up|connection refused|no such file or directory/i.test(
          line,
        ),
    );
}
