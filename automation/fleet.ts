import type { PreviewOutcome, RunOptions, UpOutcome } from "./stack-runner";
import type { TenantStacks } from "./tenant-stacks";

export interface FleetSpec {
  tenantId: string;
  plan: string;
  [key: string]: unknown;
}

export type FleetResult<T> =
  | { tenantId: string; plan: string; ok: true; value: T; seconds: number }
  | { tenantId: string; plan: string; ok: false; error: string; seconds: number };

export interface FleetOptions {
  concurrency: number;
  /** Called as each tenant finishes (for progress lines). */
  onResult?: (result: FleetResult<unknown>, done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Runs one operation over many tenants with bounded concurrency; one tenant's failure never
 * stops the others. Results come back sorted by tenant id, whatever order they finished in.
 */
export async function runFleet<T>(
  specs: FleetSpec[],
  operation: (spec: FleetSpec, opts: RunOptions) => Promise<T>,
  opts: FleetOptions,
): Promise<FleetResult<T>[]> {
  const queue = [...specs].sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  const results: FleetResult<T>[] = [];
  let done = 0;
  const worker = async () => {
    for (let spec = queue.shift(); spec; spec = queue.shift()) {
      const started = performance.now();
      let result: FleetResult<T>;
      try {
        const value = await operation(spec, { signal: opts.signal });
        result = {
          tenantId: spec.tenantId,
          plan: spec.plan,
          ok: true,
          value,
          seconds: (performance.now() - started) / 1000,
        };
      } catch (e) {
        result = {
          tenantId: spec.tenantId,
          plan: spec.plan,
          ok: false,
          error: (e as Error).message,
          seconds: (performance.now() - started) / 1000,
        };
      }
      results.push(result);
      opts.onResult?.(result, ++done, specs.length);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(opts.concurrency, specs.length)) }, worker),
  );
  return results.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
}

export const fleetPreview = (stacks: TenantStacks, specs: FleetSpec[], opts: FleetOptions) =>
  runFleet<PreviewOutcome>(specs, (spec, run) => stacks.preview(spec, run), opts);

export const fleetUp = (stacks: TenantStacks, specs: FleetSpec[], opts: FleetOptions) =>
  runFleet<UpOutcome>(specs, (spec, run) => stacks.up(spec, run), opts);
