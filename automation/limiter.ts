/**
 * Concurrency control for engine runs: a global cap (each run is a CLI process plus a program,
 * ~150 MB) and strict serialization per key (two runs on one stack never overlap in-process).
 */
export class RunLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(readonly maxConcurrent: number) {}

  /** Runs `fn` after every earlier run on `key` has ended, within the global cap. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.catch(() => undefined).then(() => this.withSlot(fn));
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxConcurrent)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
