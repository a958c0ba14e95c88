// A real DNS server for tests: Let's Encrypt's pebble-challtestsrv (scripts/ensure-pebble.sh puts
// it on PATH), answering only the records a test sets (no default address), managed over its HTTP
// interface on loopback.
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "./free-port";

export class TestDnsServer {
  private child?: ChildProcess;
  private management = 0;
  /** `host:port` the DNS server answers on (UDP and TCP). */
  address = "";

  /**
   * Starts it on `host` (127.0.0.1, or an address containers reach). `defaultIPv4`: the answer to
   * every A query without a record of its own (none by default).
   */
  async start(host = "127.0.0.1", defaultIPv4 = ""): Promise<this> {
    const dnsPort = await freePort(host);
    this.management = await freePort("127.0.0.1");
    this.address = `${host}:${dnsPort}`;
    let output = "";
    this.child = spawn(
      "pebble-challtestsrv",
      [
        `-dnsserver=${this.address}`,
        `-management=127.0.0.1:${this.management}`,
        "-http01=",
        "-https01=",
        "-tlsalpn01=",
        "-doh=",
        `-defaultIPv4=${defaultIPv4}`,
        "-defaultIPv6=",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child.stdout!.on("data", (d) => (output += d));
    this.child.stderr!.on("data", (d) => (output += d));
    const spawned = new Promise<never>((_, reject) =>
      this.child!.once("error", (e) =>
        reject(
          new Error(`pebble-challtestsrv: ${e.message} (scripts/ensure-pebble.sh puts it on PATH)`),
        ),
      ),
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      const up = await Promise.race([
        fetch(`http://127.0.0.1:${this.management}/dns-request-history`, {
          method: "POST",
          body: "{}",
        })
          .then(() => true)
          .catch(() => false),
        spawned,
      ]);
      if (up) return this;
      if (Date.now() > deadline) throw new Error(`pebble-challtestsrv did not start: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async call(path: string, body: Record<string, unknown>) {
    const r = await fetch(`http://127.0.0.1:${this.management}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`pebble-challtestsrv ${path}: ${r.status} ${await r.text()}`);
  }

  addA = (host: string, addresses: string[]) => this.call("/add-a", { host, addresses });
  clearA = (host: string) => this.call("/clear-a", { host });
  setTxt = (host: string, value: string) => this.call("/set-txt", { host, value });
  clearTxt = (host: string) => this.call("/clear-txt", { host });
  /** Every query for `host` fails (SERVFAIL): a domain whose DNS is broken. */
  setServfail = (host: string) => this.call("/set-servfail", { host });

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child!.once("exit", r));
    this.child.kill("SIGTERM");
    await exited;
  }
}
