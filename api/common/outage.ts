/**
 * Errors that mean a dependency (PostgreSQL, Redis) cannot be reached right now, as opposed to a
 * bug: the caller should come back (503 with Retry-After; Kill Bill then retries its push).
 */
export function isOutage(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  // Node's socket errors, and PostgreSQL's connection-exception class (08) and shutdown codes.
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)$/.test(e.code ?? ""))
    return true;
  if (/^(08...|57P01|57P02|57P03)$/.test(e.code ?? "")) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Connection is closed|the database system is (starting up|shutting down)/.test(
    e.message ?? "",
  );
}

/**
 * BullMQ's complaints about a job whose keys are gone: what a Redis that came back empty does to
 * the jobs that were running. Nothing is lost (the work is in PostgreSQL and the sweeper enqueues
 * it again), so these are warnings, not errors.
 */
export function isLostJob(err: unknown): boolean {
  return /^(Missing key for job|Missing lock for job|Lock mismatch for job|could not renew lock for job)/.test(
    (err as Error)?.message ?? "",
  );
}

/** What an outage log says: when it starts, when it ends, and what it counts meanwhile. */
export interface OutageWords {
  started: string;
  ended: string;
  counted: string;
}

/** The HTTP side: requests refused with 503 while the store cannot be reached. */
export const REQUESTS_REFUSED: OutageWords = {
  started: "dependency unavailable: answering 503",
  ended: "dependency available again",
  counted: "refused",
};

/** PostgreSQL: every pooled connection that breaks while the server is away. */
export const POSTGRES_AWAY: OutageWords = {
  started: "PostgreSQL connection lost: requests answered 503 until it returns",
  ended: "PostgreSQL connections again",
  counted: "errors",
};

/** Redis: every client's reconnect attempts and the workers' errors while it is away. */
export const REDIS_AWAY: OutageWords = {
  started: "Redis unavailable: queues paused, webhooks still stored",
  ended: "Redis available again",
  counted: "errors",
};

/**
 * Says an outage once when it starts (with what failed) and once when it ends (with how many
 * failures it absorbed and how long it lasted), instead of one error line with a stack per failed
 * request or reconnect attempt.
 */
export class OutageLog {
  private count = 0;
  private since?: number;

  constructor(
    private readonly log: {
      warn: (o: object, m: string) => void;
      info: (o: object, m: string) => void;
    },
    private readonly words: OutageWords = REQUESTS_REFUSED,
  ) {}

  failed(err: unknown): void {
    if (this.since === undefined) {
      this.since = Date.now();
      this.log.warn({ error: (err as Error)?.message }, this.words.started);
    }
    this.count++;
  }

  /** Something went through: an outage in progress is over. */
  recovered(): void {
    if (this.since === undefined) return;
    this.log.info(
      {
        [this.words.counted]: this.count,
        seconds: Math.round((Date.now() - this.since) / 1000),
      },
      this.words.ended,
    );
    this.since = undefined;
    this.count = 0;
  }
}
