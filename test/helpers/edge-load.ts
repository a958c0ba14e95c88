// Load on the real edge from containers of the test's own: each container is one source address
// to Traefik (on the platform's edge network), which is what a per-source rate limit counts.
import type Docker from "dockerode";

/** One client container's tally: answers by status ("error" for a failed connection) and the median. */
export interface EdgeLoadResult {
  counts: Record<string, number>;
  medianMs: number | null;
}

// Python's standard library only (the Odoo stand-in image has it): `threads` keep-alive
// connections, each sending POSTs for `seconds`, `pauseSeconds` apart; SNI and Host the vhost.
const CLIENT = `
import http.client, json, os, socket, ssl, threading, time
E = os.environ
host, port, vhost, path = E["TARGET"], int(E["PORT"]), E["VHOST"], E["URL_PATH"]
threads, seconds, pause = int(E["THREADS"]), float(E["SECONDS"]), float(E["PAUSE"])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
counts, latencies, lock = {}, [], threading.Lock()
def connect():
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.sock = ctx.wrap_socket(socket.create_connection((host, port), timeout=10), server_hostname=vhost)
    return c
def worker():
    c = connect()
    end = time.time() + seconds
    while time.time() < end:
        t = time.time()
        try:
            c.request("POST", path, body=b"{}", headers={"Host": vhost, "Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            code = str(r.status)
        except Exception:
            code = "error"
            c.close()
            c = connect()
        with lock:
            counts[code] = counts.get(code, 0) + 1
            latencies.append(time.time() - t)
        if pause:
            time.sleep(pause)
ts = [threading.Thread(target=worker) for _ in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
latencies.sort()
print(json.dumps({"counts": counts, "medianMs": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None}))
`;

/** Runs one client container on `network` against `target:port` until it is done; its tally. */
export async function edgeLoad(
  docker: Docker,
  o: {
    image: string;
    network: string;
    target: string;
    port: number;
    vhost: string;
    path: string;
    threads: number;
    seconds: number;
    pauseSeconds: number;
  },
): Promise<EdgeLoadResult> {
  const c = await docker.createContainer({
    Image: o.image,
    Entrypoint: ["python3", "-c", CLIENT],
    Env: [
      `TARGET=${o.target}`,
      `PORT=${o.port}`,
      `VHOST=${o.vhost}`,
      `URL_PATH=${o.path}`,
      `THREADS=${o.threads}`,
      `SECONDS=${o.seconds}`,
      `PAUSE=${o.pauseSeconds}`,
    ],
    Labels: { "odoo-saas.test": "edge-load" },
    HostConfig: { NetworkMode: o.network },
  });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const logs = (await c.logs({ stdout: true, stderr: true })).toString("utf8");
    if (StatusCode !== 0) throw new Error(`edge load client exited ${StatusCode}: ${logs}`);
    const line = logs.trim().split("\n").pop() ?? "";
    return JSON.parse(line.slice(line.indexOf("{"))) as EdgeLoadResult;
  } finally {
    await c.remove({ force: true });
  }
}
