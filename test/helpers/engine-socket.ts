// The Docker engine as one client sees it, on a socket of its own that forwards to the real
// engine's: `stop()` makes the engine go away for that client exactly as a stopped dockerd does
// (the socket is gone and every open connection drops), `start()` brings it back. The machine's
// dockerd itself is never stopped: the platform under test and other suites run on it.
import * as fs from "node:fs";
import * as net from "node:net";

export class EngineSocket {
  private server?: net.Server;
  private readonly open = new Set<net.Socket>();

  constructor(
    readonly path: string,
    private readonly engine = "/var/run/docker.sock",
  ) {}

  /** What DOCKER_HOST says to reach the engine through this socket. */
  get dockerHost(): string {
    return `unix://${this.path}`;
  }

  async start(): Promise<void> {
    fs.rmSync(this.path, { force: true });
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.engine);
      for (const s of [client, upstream]) {
        this.open.add(s);
        s.on("close", () => this.open.delete(s));
        s.on("error", () => s.destroy());
      }
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.path, resolve));
    this.server.unref(); // never what keeps a test process alive
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()));
    for (const s of this.open) s.destroy();
    await closed;
    fs.rmSync(this.path, { force: true });
  }
}
