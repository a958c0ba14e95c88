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

/**
 * The stale-lock rule: a lock may be cleared only when every holder was a process on this very
 * host that no longer exists. A lock from another host, or from a live process, is never
 * touched (that run may still be writing state); it surfaces as StackLockedError instead.
 */
export function locksAreStale(
  holders: LockHolder[],
  hostname = os.hostname(),
  alive: (pid: number) => boolean = processAlive,
): boolean {
  return holders.length > 0 && holders.every((h) => h.host === hostname && !alive(h.pid));
}
