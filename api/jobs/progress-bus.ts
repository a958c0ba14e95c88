import type { Redis } from "ioredis";
import type { ProgressEvent } from "../../automation";

export type OperationEvent =
  ProgressEvent | { kind: "operation-finished"; status: "succeeded" | "failed"; error?: string };

const HISTORY_LIMIT = 2000;
const HISTORY_TTL_SECONDS = 24 * 3600;

/**
 * Progress of operations across processes: the worker appends each event to a capped Redis list
 * (for late subscribers) and publishes it; the API's SSE endpoint replays then follows.
 */
export class ProgressBus {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "odoo-saas:operation",
  ) {}

  async publish(operationId: string, event: OperationEvent): Promise<void> {
    const key = `${this.prefix}:${operationId}`;
    const payload = JSON.stringify(event);
    await this.redis
      .multi()
      .rpush(`${key}:events`, payload)
      .ltrim(`${key}:events`, -HISTORY_LIMIT, -1)
      .expire(`${key}:events`, HISTORY_TTL_SECONDS)
      .publish(key, payload)
      .exec();
  }

  async history(operationId: string): Promise<OperationEvent[]> {
    const items = await this.redis.lrange(`${this.prefix}:${operationId}:events`, 0, -1);
    return items.map((i) => JSON.parse(i));
  }

  /** Follows live events with a dedicated connection; returns the function that stops following. */
  async follow(operationId: string, onEvent: (e: OperationEvent) => void): Promise<() => void> {
    const sub = this.redis.duplicate();
    const channel = `${this.prefix}:${operationId}`;
    sub.on("message", (ch, message) => ch === channel && onEvent(JSON.parse(message)));
    await sub.subscribe(channel);
    return () => void sub.quit().catch(() => undefined);
  }
}
