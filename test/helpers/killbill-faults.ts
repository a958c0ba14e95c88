// A fault-injecting proxy in front of a real Kill Bill: every request is passed through, except
// those whose path names an id the test poisoned, which get the fault chosen for it (Kill Bill's
// own 500 body, or no answer at all), as when one account's data breaks a Kill Bill plugin or a
// query on it times out. The API under test talks to Kill Bill only through this.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export type KillBillFault = "500" | "hang";

export class KillBillFaults {
  private server?: http.Server;
  private readonly faults = new Map<string, KillBillFault>();
  /** Requests that got a fault, by poisoned id. */
  readonly hits = new Map<string, number>();

  constructor(private readonly upstream: string) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Requests whose path contains `id` get `fault` from now on. */
  poison(id: string, fault: KillBillFault = "500"): void {
    this.faults.set(id, fault);
  }

  heal(id: string): void {
    this.faults.delete(id);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const hit = [...this.faults].find(([id]) => req.url?.includes(id));
      if (hit) {
        this.hits.set(hit[0], (this.hits.get(hit[0]) ?? 0) + 1);
        req.resume();
        if (hit[1] === "hang") return; // the client's own timeout decides
        res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ code: 1021, message: `injected failure for ${hit[0]}` }));
        return;
      }
      const target = new URL(req.url ?? "/", this.upstream);
      const forward = http.request(
        target,
        { method: req.method, headers: { ...req.headers, host: target.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on("error", () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
