import * as fs from "node:fs";
import * as os from "node:os";

/** A lock holder as the CLI reports it: `created by <user>@<host> (pid <pid>) at <time>`. */
export interface LockHolder {
  user: string;
  host: string;
  pid: number;
  at: string;
}

export function lockHolders(message: string): LockHolder[] {
  const holders = new Map<string, LockHolder>(); // the CLI repeats its error: one per lock
  for (const m of message.matchAll(/created by ([^@\s]+)@(\S+) \(pid (\d+)\) at (\S+)/g))
    holders.set(m[0], { user: m[1], host: m[2], pid: Number(m[3]), at: m[4] });
  return [...holders.values()];
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
  // A killed process whose parent died too may linger as a zombie until it is reaped: dead.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/** When a process started (ms since the epoch), from Linux's /proc; undefined if unknown. */
export function processStartedAt(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const boot = Number(/^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"))![1]);
    return (boot + ticks / 100) * 1000; // /proc counts in USER_HZ, 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * Whether the process that took a lock at `at` still runs. A process with its pid that started
 * after the lock was taken is another one (pids are reused, within minutes on a busy host).
 */
export function holderAlive(pid: number, at: string): boolean {
  if (!processAlive(pid)) return false;
  const started = processStartedAt(pid);
  const taken = Date.parse(at);
  return started === undefined || Number.isNaN(taken) || started <= taken + 1000;
}

/**
 * The stale-lock rule: a lock may be cleared only when every holder was a process on this very
 * host that no longer exists. A lock from another host, or from a live process, is never
 * touched (that run may still be writing state); it surfaces as StackLockedError instead.
 */
export function locksAreStale(
  holders: LockHolder[],
  hostname = os.hostname(),
  alive: (pid: number, at: string) => boolean = holderAlive,
): boolean {
  return holders.length > 0 && holders.every((h) => h.host === hostname && !alive(h.pid, h.at));
}
