import * as http from "node:http";

export interface RouteCheck {
  /** The tenant's address (its `url` output), e.g. https://acme.saas.example. */
  url: string;
  /** The path that must answer 2xx, e.g. /web/health. */
  path: string;
  /**
   * Reach the router at this http:// origin instead, with the tenant's host name in the Host
   * header (a local platform, or a router not yet in DNS).
   */
  via?: string;
  timeoutMs: number;
}

async function answer(c: RouteCheck): Promise<number> {
  if (!c.via) {
    const res = await fetch(new URL(c.path, c.url), { signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    return res.status;
  }
  const via = new URL(c.via);
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: via.hostname,
        port: via.port || 80,
        path: c.path,
        headers: { Host: new URL(c.url).host },
        timeout: 5000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer in 5 s")));
    req.on("error", reject);
  });
}

/**
 * Waits until the tenant's route answers 2xx on the path, polling every 2 s; throws with the last
 * answer (or error) once the time is up.
 */
export async function waitForRoute(c: RouteCheck): Promise<void> {
  const deadline = Date.now() + c.timeoutMs;
  let last = "";
  for (;;) {
    try {
      const status = await answer(c);
      if (status >= 200 && status < 300) return;
      last = `answered ${status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() + 2000 > deadline)
      throw new Error(`health check of ${c.url}${c.path} failed: ${last}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
