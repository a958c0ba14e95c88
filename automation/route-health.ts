import * as http from "node:http";
import * as https from "node:https";

export interface RouteCheck {
  /** The tenant's address (its `url` output), e.g. https://acme.saas.example. */
  url: string;
  /** The path that must answer 2xx, e.g. /web/health. */
  path: string;
  /**
   * Reach the router at this origin instead (http:// or https://), with the tenant's host name in
   * the Host header and, over TLS, as the server name: a local platform, a router not yet in DNS,
   * or a control plane that reaches the edge by an inside address. Its certificate is not checked
   * there: what is proven is the route, not the certificate.
   */
  via?: string;
  timeoutMs: number;
  /** Stops waiting early. */
  signal?: AbortSignal;
}

function answer(c: RouteCheck): Promise<number> {
  const target = new URL(c.path, c.url);
  const via = c.via ? new URL(c.via) : target;
  const tls = via.protocol === "https:";
  const host = target.hostname;
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).get(
      {
        host: via.hostname,
        port: via.port || (tls ? 443 : 80),
        path: target.pathname + target.search,
        headers: { Host: host },
        timeout: 5000,
        ...(tls ? { servername: host, rejectUnauthorized: !c.via } : {}),
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

/** The route's error: how long it was given and what it last answered. */
export class RouteHealthError extends Error {
  override readonly name = "RouteHealthError";
}

/**
 * Waits until the tenant's route answers 2xx on the path twice in a row, polling every second
 * (the router may still be taking in a replaced instance: one answer alone can be the last of the
 * old routes); throws with the last answer (or error) once the time is up.
 */
export async function waitForRoute(c: RouteCheck): Promise<void> {
  const deadline = Date.now() + c.timeoutMs;
  let last = "";
  let answered = 0;
  for (;;) {
    try {
      const status = await answer(c);
      answered = status >= 200 && status < 300 ? answered + 1 : 0;
      if (answered >= 2) return;
      last = `answered ${status}`;
    } catch (e) {
      answered = 0;
      last = (e as Error).message;
    }
    if (c.signal?.aborted || Date.now() + 1000 > deadline)
      throw new RouteHealthError(
        `${c.url}${c.path} did not answer through the edge within ${Math.round(c.timeoutMs / 1000)} s (last: ${last})`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}
