import { createHash } from "node:crypto";

/** A tenant's stable offset in the nightly window (the same every night, spread evenly). */
export function spreadOffset(tenantId: string, windowMs: number): number {
  if (windowMs <= 0) return 0;
  const h = createHash("sha256").update(tenantId).digest().readUInt32BE(0);
  return h % windowMs;
}
