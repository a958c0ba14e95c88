import * as fs from "node:fs";
import * as os from "node:os";

/** Clock ticks per second of /proc's CPU counters (USER_HZ: 100 on every Linux this runs on). */
const HZ = 100;

interface ProcessSample {
  pid: number;
  ppid: number;
  comm: string;
  /** user + system CPU, in ticks */
  cpu: number;
  /** When it started (ticks since boot): a pid reused by a new process has another. */
  started: number;
  /** What the process is (its arguments), read once. */
  args?: string;
}

/** What a process is, for the profile: the group its CPU-seconds are counted under. */
export type ProcessGroup =
  | "this process (our program, Automation API)"
  | `${string} (CLI)`
  | "docker provider plugin"
  | "dynamic provider host"
  | "dockerd + containerd + shims + runc"
  | "containers (Odoo, health checks, PostgreSQL, Traefik)"
  | "the profiler's sampling"
  | "other processes";

function readProcesses(): Map<number, ProcessSample> {
  const out = new Map<number, ProcessSample>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const f = stat.slice(close + 2).split(" ");
      out.set(Number(entry), {
        pid: Number(entry),
        ppid: Number(f[1]),
        comm,
        cpu: Number(f[11]) + Number(f[12]),
        started: Number(f[19]),
      });
    } catch {
      // ended while we looked
    }
  }
  return out;
}

const identity = (s: ProcessSample) => `${s.pid}:${s.started}`;

function argsOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/** Total CPU ticks the machine spent (all cores, not idle or iowait). */
export function machineBusyTicks(): number {
  const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].split(/\s+/).slice(1);
  const n = cpu.map(Number);
  return n.slice(0, 8).reduce((a, b) => a + b, 0) - n[3] - n[4];
}

/** The CLI's subcommand from its arguments: `pulumi up`, `pulumi stack output`, … */
function pulumiCommand(args: string): string {
  const words = args.split(" ").slice(1);
  const verbs = words.filter((w) => !w.startsWith("-")).slice(0, 2);
  return ["pulumi", ...(verbs[0] === "stack" || verbs[0] === "config" ? verbs : verbs.slice(0, 1))]
    .join(" ")
    .trim();
}

/**
 * Where CPU time goes while work runs, per group of processes: every process on the machine is
 * sampled from /proc every `intervalMs` and its last seen CPU counted. A process that starts and
 * ends between two samples is missed; the machine's own counter (/proc/stat) catches it, and the
 * difference is reported as `unattributed`.
 */
export class ProcessCpuProfile {
  /** By process identity (pid and start time: pids are reused). */
  private readonly start = new Map<string, ProcessSample>();
  private readonly last = new Map<string, ProcessSample>();
  private readonly groups = new Map<string, ProcessGroup>();
  /** Pulumi CLI runs seen, by subcommand. */
  readonly cliRuns = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private busyAtStart = 0;
  private ownAtStart = process.cpuUsage();
  private startedAt = 0;
  /** This process's CPU spent sampling: the profiler's, not the program's. */
  private samplingSeconds = 0;

  constructor(private readonly intervalMs = 50) {}

  begin(): void {
    this.start.clear();
    this.last.clear();
    this.groups.clear();
    this.cliRuns.clear();
    for (const s of readProcesses().values()) this.start.set(identity(s), s);
    this.busyAtStart = machineBusyTicks();
    this.ownAtStart = process.cpuUsage();
    this.startedAt = Date.now();
    this.samplingSeconds = 0;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  private sample(): void {
    const before = process.cpuUsage();
    this.sampleProcesses();
    const spent = process.cpuUsage(before);
    this.samplingSeconds += (spent.user + spent.system) / 1e6;
  }

  private sampleProcesses(): void {
    const now = readProcesses();
    for (const [pid, s] of now) {
      const id = identity(s);
      if (!this.groups.has(id)) {
        this.groups.set(id, this.classify(pid, now));
        if (s.comm === "pulumi" && !this.start.has(id)) {
          const command = pulumiCommand(argsOf(pid));
          this.cliRuns.set(command, (this.cliRuns.get(command) ?? 0) + 1);
        }
      }
      this.last.set(id, s);
    }
  }

  private classify(pid: number, all: Map<number, ProcessSample>): ProcessGroup {
    if (pid === process.pid) return "this process (our program, Automation API)";
    // Walk up the ancestry: the first ancestor that says what this process serves decides.
    let child: ProcessSample | undefined;
    for (let p = all.get(pid), depth = 0; p && depth < 30; p = all.get(p.ppid), depth++) {
      const c = p.comm;
      if (c === "pulumi") {
        // What the CLI started decides: the docker plugin, or the dynamic providers' launcher
        // (node; `comm` keeps 15 characters, so plugins are told apart by their arguments).
        if (!child) return `${pulumiCommand(argsOf(p.pid))} (CLI)`;
        if (argsOf(child.pid).includes("pulumi-resource-docker")) return "docker provider plugin";
        if (child.comm === "node" || argsOf(child.pid).includes("pulumi-nodejs"))
          return "dynamic provider host";
        return `${pulumiCommand(argsOf(p.pid))} (CLI)`;
      }
      if (c.startsWith("containerd-shim")) {
        return p.pid === pid || all.get(pid)?.comm === "runc"
          ? "dockerd + containerd + shims + runc"
          : "containers (Odoo, health checks, PostgreSQL, Traefik)";
      }
      if (c === "dockerd" || c === "containerd" || c === "runc" || c === "docker-proxy")
        return "dockerd + containerd + shims + runc";
      if (p.pid === process.pid) return "this process (our program, Automation API)";
      child = p;
    }
    return "other processes";
  }

  /** Stops sampling; CPU-seconds per group, the machine's total and the wall time. */
  end(): ProfileResult {
    clearInterval(this.timer);
    this.sample();
    const own = process.cpuUsage(this.ownAtStart);
    const perGroup = new Map<string, number>();
    for (const [id, s] of this.last) {
      if (s.pid === process.pid) continue;
      const cpu = s.cpu - (this.start.get(id)?.cpu ?? 0);
      if (cpu <= 0) continue;
      const group = this.groups.get(id)!;
      perGroup.set(group, (perGroup.get(group) ?? 0) + cpu / HZ);
    }
    perGroup.set(
      "this process (our program, Automation API)",
      (own.user + own.system) / 1e6 - this.samplingSeconds,
    );
    perGroup.set("the profiler's sampling", this.samplingSeconds);
    const machine = (machineBusyTicks() - this.busyAtStart) / HZ;
    const attributed = [...perGroup.values()].reduce((a, b) => a + b, 0);
    return {
      wallSeconds: (Date.now() - this.startedAt) / 1000,
      machineSeconds: machine,
      cores: os.cpus().length,
      groups: Object.fromEntries(perGroup),
      unattributed: Math.max(0, machine - attributed),
      cliRuns: Object.fromEntries(this.cliRuns),
    };
  }
}

export interface ProfileResult {
  wallSeconds: number;
  /** CPU-seconds the whole machine spent (all processes and the kernel). */
  machineSeconds: number;
  cores: number;
  groups: Record<string, number>;
  unattributed: number;
  cliRuns: Record<string, number>;
}
