import * as fs from "node:fs";

/** Resident memory of this process and all its descendants (Linux /proc), in bytes. */
export function treeRss(root = process.pid): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      rss.set(Number(entry), Number(fields[21]) * 4096);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Samples treeRss every `intervalMs` until stopped; returns the peak. */
export function sampleRss(intervalMs = 100): { stop: () => number } {
  let peak = treeRss();
  const timer = setInterval(() => (peak = Math.max(peak, treeRss())), intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, treeRss());
    },
  };
}
