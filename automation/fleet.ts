import type { PreviewOutcome, ResourceChange, RunOptions, UpOutcome } from "./stack-runner";
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

/** A preview, or the knowledge that none is needed: the inputs are those the stack was applied with. */
export type FleetPreview = PreviewOutcome & { skippedByFingerprint?: true };

export interface FleetPreviewOptions extends FleetOptions {
  /**
   * The fingerprint each tenant's stack was last applied with; tenants whose inputs still have
   * it are not previewed. Absent: every tenant is previewed.
   */
  applied?: (tenantId: string) => Promise<string | undefined>;
}

export const fleetPreview = (stacks: TenantStacks, specs: FleetSpec[], opts: FleetPreviewOptions) =>
  runFleet<FleetPreview>(
    specs,
    async (spec, run) => {
      if (opts.applied) {
        const [now, applied] = await Promise.all([
          stacks.fingerprint(spec),
          opts.applied(spec.tenantId),
        ]);
        if (now === applied)
          return { changes: [], counts: {}, text: "", skippedByFingerprint: true as const };
      }
      return stacks.preview(spec, run);
    },
    opts,
  );

export interface FleetUpOptions extends FleetOptions {
  /** Wraps each tenant's up (e.g. to record it in the API's store under the tenant's lock). */
  apply?: (tenantId: string, up: () => Promise<UpOutcome>) => Promise<UpOutcome>;
  /** Refresh first: resources changed out of band are put back (drift fixed). */
  refresh?: boolean;
}

export const fleetUp = (stacks: TenantStacks, specs: FleetSpec[], opts: FleetUpOptions) =>
  runFleet<UpOutcome>(
    specs,
    (spec, run) => {
      const up = () => stacks.up(spec, { ...run, refresh: opts.refresh });
      return opts.apply ? opts.apply(spec.tenantId, up) : up();
    },
    opts,
  );

export const fleetDrift = (stacks: TenantStacks, specs: FleetSpec[], opts: FleetOptions) =>
  runFleet<ResourceChange[]>(specs, (spec, run) => stacks.drift(spec.tenantId, run), opts);
