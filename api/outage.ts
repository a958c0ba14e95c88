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
 * Says an outage once when it starts (with what failed) and once when it ends (with how many
 * requests it refused), instead of one error line with a stack per failed request.
 */
export class OutageLog {
  private refused = 0;
  private since?: number;

  constructor(
    private readonly log: {
      warn: (o: object, m: string) => void;
      info: (o: object, m: string) => void;
    },
  ) {}

  refusedOne(err: unknown): void {
    if (this.since === undefined) {
      this.since = Date.now();
      this.log.warn({ error: (err as Error)?.message }, "dependency unavailable: answering 503");
    }
    this.refused++;
  }

  /** A request went through: an outage in progress is over. */
  served(): void {
    if (this.since === undefined) return;
    this.log.info(
      { refused: this.refused, seconds: Math.round((Date.now() - this.since) / 1000) },
      "dependency available again",
    );
    this.since = undefined;
    this.refused = 0;
  }
}
