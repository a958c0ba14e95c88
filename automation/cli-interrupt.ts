import * as fs from "node:fs";

/** The engine's answer to its first interrupt: from then on it is cancelling the run. */
export const CANCELLING = "^C received; cancelling";

/**
 * The CLI processes this process started in `workDir` (a stack's work directory: the Automation
 * API runs every command of a stack there). Read from /proc; elsewhere none are found.
 */
export function cliProcessesIn(workDir: string): number[] {
  let entries: string[];
  let dir: string;
  try {
    entries = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e));
    dir = fs.realpathSync(workDir); // as the kernel shows a process's directory
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      return ppid === process.pid && fs.readlinkSync(`/proc/${pid}/cwd`) === dir;
    } catch {
      return false; // gone meanwhile, or not ours to read
    }
  });
}

/**
 * The Automation API interrupts the CLI once, when the signal aborts, and only a CLI already
 * running: an abort that comes while the CLI is still starting, or between two of its commands,
 * is lost, and the run goes on to its end (a timeout that does not bound anything). So, after an
 * abort, this interrupts the stack's CLI again every `everyMs` until the engine says it is
 * cancelling. Never sooner: a second interrupt the engine has seen makes it stop at once, leaving
 * operations pending. Returns what stops it (when the run has ended).
 */
export function interruptUntilCancelling(
  workDir: string,
  signal: AbortSignal,
  cancelling: () => boolean,
  everyMs = 3000,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    timer = setInterval(() => {
      if (cancelling()) return clearInterval(timer);
      for (const pid of cliProcessesIn(workDir)) {
        try {
          process.kill(pid, "SIGINT");
        } catch {
          // it ended meanwhile
        }
      }
    }, everyMs);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  return () => {
    signal.removeEventListener("abort", onAbort);
    clearInterval(timer);
  };
}
