// One API process of the soak (test/helpers/api-process.ts: HTTP and workers, provider-free
// program) in a process group of its own, so a crash takes its engine runs with it.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";

export class SoakApiProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private crashing = false;
  /** Exits nobody asked for (a crash of the API itself). */
  unexpectedExits = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "test/helpers/api-process.ts"],
      {
        env: { ...process.env, ...this.env, PORT: String(this.port), LOG_FILE: this.logFile },
        stdio: ["ignore", "pipe", "inherit"],
        detached: true,
      },
    );
    this.child = child;
    this.crashing = false;
    this.exited = new Promise((resolve) =>
      child.on("exit", () => {
        if (!this.crashing) this.unexpectedExits++;
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => d.toString().includes("READY") && resolve());
      child.on("exit", (code) => reject(new Error(`API process ${this.name} exited (${code})`)));
    });
  }

  /** SIGKILL to the process and its engine runs, without warning. */
  async crash(): Promise<void> {
    if (!this.child?.pid) return;
    this.crashing = true;
    try {
      process.kill(-this.child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await this.exited;
  }

  /** Graceful stop (SIGTERM: running jobs finish), a crash if it takes longer than 60 s. */
  async stop(): Promise<void> {
    if (!this.child?.pid || this.child.exitCode !== null) return;
    this.crashing = true;
    this.child.kill("SIGTERM");
    const late = setTimeout(() => void this.crash(), 60000);
    await this.exited;
    clearTimeout(late);
  }

  /** Resident memory of the API's own process (its engine runs come and go), in MB. */
  rssMb(): number {
    try {
      const status = fs.readFileSync(`/proc/${this.child!.pid}/status`, "utf8");
      return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
    } catch {
      return 0; // not running
    }
  }
}
