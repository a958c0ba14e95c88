import * as fs from "node:fs";
import * as path from "node:path";

/** What a rollout has done so far, kept on disk after every tenant. */
export interface RolloutRecord {
  /** The tenants in the order the rollout applies them; the first `canary` are the canary. */
  order: string[];
  canary: number;
  batchSize: number;
  maxFailures: number;
  /** Each finished tenant: how it ended. */
  done: Record<string, { ok: true } | { ok: false; stage: string; error: string }>;
  /** Why it stopped (a failed canary, too many failures), or null while it runs or once finished. */
  stopped: string | null;
  finished: boolean;
}

export class RolloutJournalError extends Error {
  override readonly name = "RolloutJournalError";
}

/**
 * The rollout's state in a file, replaced atomically (write, then rename) after each tenant: a
 * rollout stopped by a failure or killed mid-way resumes from it, never starting over.
 */
export class RolloutJournal {
  constructor(readonly file: string) {}

  read(): RolloutRecord | undefined {
    if (!fs.existsSync(this.file)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(this.file, "utf8")) as RolloutRecord;
    } catch (e) {
      throw new RolloutJournalError(
        `cannot read the rollout state ${this.file}: ${(e as Error).message}`,
      );
    }
  }

  write(record: RolloutRecord): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record, null, 2));
    fs.renameSync(tmp, this.file);
  }
}
