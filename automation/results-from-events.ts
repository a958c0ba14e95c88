import { runtime } from "@pulumi/pulumi";
import type {
  DestroyOptions,
  EngineEvent,
  OutputMap,
  Stack,
  SummaryEvent,
  UpOptions,
} from "@pulumi/pulumi/automation";

/** Replaces every secret envelope in an engine-event value with `[secret]`. */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[runtime.specialSigKey] === runtime.specialSecretSig) return "[secret]";
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, maskSecrets(v)]));
  }
  return value;
}

export interface EventUpResult {
  /** Root stack outputs as the engine reports them: secret values already read `[secret]`. */
  outputs: Record<string, unknown>;
  summary: SummaryEvent;
}

/**
 * `Stack.up()` follows every update with two more CLI runs, `stack output` and `stack history`,
 * to assemble its result (pulumi/pulumi#6253): each one a process start and a state load, which
 * doubles the cost of a small update. The engine's own event stream already carries both (the
 * root stack's outputs, secrets masked, and the summary), so the result is taken from it and
 * those two runs are skipped. The stack object itself is not touched: `up` runs on a view of it
 * whose result-assembly methods are no-ops.
 */
export async function upFromEvents(stack: Stack, opts: UpOptions): Promise<EventUpResult> {
  let outputs: Record<string, unknown> | undefined;
  let summary: SummaryEvent | undefined;
  const onEvent = (event: EngineEvent) => {
    opts.onEvent?.(event);
    const done = event.resOutputsEvent?.metadata;
    if (done?.type === "pulumi:pulumi:Stack")
      outputs = maskSecrets(done.new?.outputs ?? {}) as Record<string, unknown>;
    if (event.summaryEvent) summary = event.summaryEvent;
  };
  const view: Stack = Object.assign(Object.create(stack), {
    outputs: async (): Promise<OutputMap> => ({}),
    info: async () => undefined,
  });
  await view.up({ ...opts, onEvent });
  if (!summary) throw new Error("the engine reported no summary for the update");
  if (!outputs) {
    const fetched = await stack.outputs();
    outputs = Object.fromEntries(
      Object.entries(fetched).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]),
    );
  }
  return { outputs, summary };
}

/**
 * `Stack.destroy()` likewise ends with a `stack history` run for its summary; the engine's
 * events carry it.
 */
export async function destroyFromEvents(stack: Stack, opts: DestroyOptions): Promise<SummaryEvent> {
  let summary: SummaryEvent | undefined;
  const onEvent = (event: EngineEvent) => {
    opts.onEvent?.(event);
    if (event.summaryEvent) summary = event.summaryEvent;
  };
  const view: Stack = Object.assign(Object.create(stack), { info: async () => undefined });
  await view.destroy({ ...opts, onEvent });
  if (!summary) throw new Error("the engine reported no summary for the destroy");
  return summary;
}
