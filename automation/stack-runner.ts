import { dockerEndpoint, swarmVersionConflict, unreachableEngine } from "./docker-engine";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import {
  CommandError,
  ConcurrentUpdateError,
  LocalWorkspace,
  PulumiCommand,
  Stack,
  StackAlreadyExistsError,
  StackNotFoundError as PulumiStackNotFoundError,
  type EngineEvent,
  type OpType,
  type PulumiFn,
} from "@pulumi/pulumi/automation";
import {
  EngineError,
  RunCancelledError,
  RunTimedOutError,
  StackLockedError,
  StackNotFoundError,
} from "./errors";
import { CANCELLING, interruptUntilCancelling } from "./cli-interrupt";
import { dynamicProviderEnv } from "./dynamic-provider-env";
import { RunLimiter } from "./limiter";
import { destroyFromEvents, upFromEvents } from "./results-from-events";
import { installOrphanedRpcGuard } from "./orphaned-rpc-guard";
import { toProgressEvent, resourceName, stripAnsi, type ProgressEvent } from "./progress";
import { engineErrors, redactor, tail, urlPasswords } from "./redact";
import type { AutomationSettings } from "./settings";
import { lockHolders, locksAreStale } from "./stale-lock";

export interface StackRef {
  project: string;
  stack: string;
}

export interface StackTarget extends StackRef {
  program: PulumiFn;
  /** Values to remove from anything this layer returns or throws (passwords, tokens). */
  secrets?: string[];
  /**
   * Runs inside the stack's serialized section before the operation (e.g. to set generated
   * config); returns more secrets to redact.
   */
  prepare?: (stack: Stack) => Promise<string[]>;
  /**
   * The Docker engines the program reaches besides DOCKER_HOST's (a tenant node's), so a failure
   * to reach one is said as such. Read only when a run fails.
   */
  engines?: () => Promise<string[]>;
  /**
   * A failure the target can clear (a leftover only its owner can tell as such): true when it
   * did, and the run is made again (at most twice).
   */
  recover?: (error: string) => Promise<boolean>;
  /** `up` only: runs inside the serialized section after the update succeeded. */
  succeeded?: (stack: Stack) => Promise<void>;
  /**
   * The caller just found no such stack: create it straight away (`stack init`) rather than
   * first asking whether it exists. One that appeared meanwhile is selected instead.
   */
  knownMissing?: boolean;
}

export interface RunOptions {
  /** Cancels the run (the CLI gets SIGINT and stops gracefully, releasing its lock). */
  signal?: AbortSignal;
  timeoutMs?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** `up` only: read every resource back first, so what changed out of band is put right. */
  refresh?: boolean;
}

/** Stack outputs with secret values replaced by `[secret]`. */
export type Outputs = Record<string, unknown>;

export interface UpOutcome {
  outputs: Outputs;
  changes: Record<string, number>;
  durationSeconds: number;
}

export interface ResourceChange {
  urn: string;
  type: string;
  name: string;
  op: OpType;
  /** Names of the properties that differ; values are never included, so nothing secret leaks. */
  changedProperties: string[];
}

export interface PreviewOutcome {
  /** Resources that would change, in URN order (deterministic). */
  changes: ResourceChange[];
  counts: Record<string, number>;
  /** The engine's own diff text, secrets masked. */
  text: string;
}

export const SECRET_MASK = "[secret]";

const run = promisify(execFile);

/** A step of the engine's as reported: the resource, its operation, its changed property names. */
function resourceChange(
  m: { urn: string; type: string; op: OpType },
  changed: string[],
): ResourceChange {
  return {
    urn: m.urn,
    type: m.type,
    name: resourceName(m.urn),
    op: m.op,
    changedProperties: [...changed].sort(),
  };
}

/** Names of the properties whose values differ (the values themselves are never reported). */
function differingKeys(a: Record<string, unknown> = {}, b: Record<string, unknown> = {}): string[] {
  if (!Object.keys(b).length) return []; // deleted: nothing to compare
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => !k.startsWith("__") && JSON.stringify(a[k]) !== JSON.stringify(b[k]),
  );
}

/**
 * Runs Pulumi operations on stacks through the Automation API: one persistent work directory
 * per stack (never shared), a global cap on simultaneous runs, per-stack serialization,
 * cancellation and timeouts, progress events, and domain errors with secrets removed.
 */
export class StackRunner {
  private readonly limiter: RunLimiter;
  private command?: Promise<PulumiCommand>;
  private readonly stacks = new Map<string, Promise<Stack>>();

  constructor(readonly settings: AutomationSettings) {
    this.limiter = new RunLimiter(settings.maxConcurrentRuns);
    // The engine does not create a file:// backend's directory ("unable to open state directory").
    if (settings.backendUrl.startsWith("file://"))
      fs.mkdirSync(settings.backendUrl.slice("file://".length).split("?")[0], { recursive: true });
    // Find the CLI (it runs `pulumi version`) now rather than in the first tenant's run.
    this.pulumiCommand().catch(() => undefined);
    installOrphanedRpcGuard();
  }

  workDir(ref: StackRef): string {
    return path.join(this.settings.dataDir, "workspaces", ref.project, ref.stack);
  }

  up(target: StackTarget, opts: RunOptions = {}): Promise<UpOutcome> {
    return this.execute(target, opts, true, async (stack, run) => {
      const { outputs, summary } = await upFromEvents(stack, { ...run, refresh: opts.refresh });
      await target.succeeded?.(stack);
      return {
        outputs,
        changes: { ...(summary.resourceChanges as Record<string, number>) },
        durationSeconds: summary.durationSeconds,
      };
    });
  }

  preview(target: StackTarget, opts: RunOptions = {}): Promise<PreviewOutcome> {
    return this.execute(target, opts, true, async (stack, run, redact) => {
      const changes = new Map<string, ResourceChange>();
      const result = await stack.preview({
        diff: true,
        signal: run.signal,
        onEvent: (event: EngineEvent) => {
          run.onEvent?.(event);
          const m = event.resourcePreEvent?.metadata;
          if (!m || m.op === "same" || m.op === "read") return;
          // A provider that names no properties (a dynamic provider's own diff): compare inputs.
          const changed = m.detailedDiff
            ? Object.keys(m.detailedDiff)
            : m.diffs?.length
              ? m.diffs
              : m.op === "update"
                ? differingKeys(m.old?.inputs, m.new?.inputs)
                : [];
          changes.set(m.urn, resourceChange(m, changed));
        },
      });
      return {
        changes: [...changes.values()].sort((a, b) => a.urn.localeCompare(b.urn)),
        counts: { ...(result.changeSummary as Record<string, number>) },
        text: redact(stripAnsi(result.stdout)),
      };
    });
  }

  refresh(target: StackTarget, opts: RunOptions = {}): Promise<Record<string, number>> {
    return this.execute(target, opts, false, async (stack, run) => {
      const result = await stack.refresh({ ...run });
      return { ...(result.summary.resourceChanges as Record<string, number>) };
    });
  }

  /**
   * What a refresh would change in the recorded state: resources changed or deleted out of
   * band, by property name (values are never shown). Changes nothing (`refresh --preview-only`).
   */
  drift(target: StackTarget, opts: RunOptions = {}): Promise<ResourceChange[]> {
    return this.execute(target, opts, false, async (stack, run) => {
      const changes = new Map<string, ResourceChange>();
      await stack.previewRefresh({
        signal: run.signal,
        onEvent: (event: EngineEvent) => {
          run.onEvent?.(event);
          // The refresh's verdict per resource: `same`, or `update` / `delete` when what the
          // provider reads back differs from the recorded state.
          const m = event.resOutputsEvent?.metadata;
          if (!m || m.op === "same" || m.op === "refresh" || m.type.startsWith("pulumi:")) return;
          const changed = m.diffs?.length ? m.diffs : differingKeys(m.old?.outputs, m.new?.outputs);
          changes.set(m.urn, resourceChange(m, changed));
        },
      });
      return [...changes.values()].sort((a, b) => a.urn.localeCompare(b.urn));
    });
  }

  /**
   * Destroys every resource of the stack, then removes the stack and its work directory. Each
   * pass refreshes first, so a resource already gone (removed by hand, or by a delete that then
   * failed) leaves the state instead of failing its delete again. The docker provider's delete of
   * a Swarm service is such a case: it removes the service, then fails if the containers take
   * longer than the stop grace period to go (a loaded engine). Destroying is idempotent, so a
   * second pass finishes what the first one left; a cancelled or locked run is not repeated.
   */
  destroy(target: StackTarget, opts: RunOptions = {}): Promise<Record<string, number>> {
    return this.execute(target, opts, false, async (stack, run) => {
      const pass = () => destroyFromEvents(stack, { ...run, refresh: true });
      const result = await pass().catch((e) => {
        if (
          !(e instanceof CommandError) ||
          e instanceof ConcurrentUpdateError ||
          run.signal.aborted
        )
          throw e;
        return pass();
      });
      await stack.workspace.removeStack(stack.name);
      this.stacks.delete(this.key(target));
      fs.rmSync(this.workDir(target), { recursive: true, force: true });
      this.purgeStateFiles(target);
      return { ...(result.resourceChanges as Record<string, number>) };
    });
  }

  /**
   * Removes the resources `pick` names from the stack's state without touching them (as `pulumi
   * state delete` does, for what can no longer be reached), with every reference the others hold
   * to them. The state is imported whole: a reference left dangling is refused there, unchanged.
   * Returns the URNs removed.
   */
  forget(
    target: StackTarget,
    pick: (resources: { urn: string; type: string; provider?: string }[]) => Set<string>,
  ): Promise<string[]> {
    return this.execute(target, {}, false, async (stack) => {
      const state = await stack.exportStack();
      const resources = (state.deployment?.resources ?? []) as Record<string, unknown>[];
      const gone = pick(resources as { urn: string; type: string; provider?: string }[]);
      if (!gone.size) return [];
      const kept = resources
        .filter((r) => !gone.has(r.urn as string))
        .map((r) => withoutReferencesTo(r, gone));
      await stack.importStack({ ...state, deployment: { ...state.deployment, resources: kept } });
      return [...gone];
    });
  }

  /** The stack's outputs, secret values read `[secret]`. */
  outputs(ref: StackRef): Promise<Outputs> {
    return this.readOutputs(ref, false);
  }

  /** Outputs with secrets in clear: for the control plane's own use, never shown or logged. */
  secretOutputs(ref: StackRef): Promise<Outputs> {
    return this.readOutputs(ref, true);
  }

  /**
   * One `stack output --json` run. `Stack.outputs()` takes two (masked, then in clear) after a
   * `stack select`, and each CLI run costs about half a CPU-second to start plus a key derivation
   * (bench/profile); the CLI prints secrets as `[secret]` unless asked to show them.
   */
  private readOutputs(ref: StackRef, reveal: boolean): Promise<Outputs> {
    const name = this.key(ref);
    const redact = redactor([this.settings.passphrase, ...urlPasswords(this.settings.backendUrl)]);
    return this.limiter.run(name, async () => {
      const ws = await this.workspace(ref, async () => undefined);
      const args = ["stack", "output", "--json", ...(reveal ? ["--show-secrets"] : [])];
      try {
        const { stdout } = await run(ws.pulumiCommand.command, [...args, "--stack", ref.stack], {
          cwd: ws.workDir,
          env: { ...process.env, ...ws.envVars },
          maxBuffer: 64 * 1024 * 1024,
        });
        return JSON.parse(stdout) as Outputs;
      } catch (e) {
        const text = stripAnsi(String((e as { stderr?: string }).stderr || (e as Error).message));
        if (/no stack named/.test(text))
          throw new StackNotFoundError(`stack ${name} does not exist`, name);
        throw new EngineError(`reading the outputs of ${name} failed`, name, tail(redact(text)));
      }
    });
  }

  /**
   * What a file:// backend keeps of a removed stack: checkpoint backups (each still holding the
   * stack's encrypted secrets), update history and the .bak of the state file. A removed stack
   * leaves nothing behind (other backends delete their own).
   */
  private purgeStateFiles(ref: StackRef): void {
    if (!this.settings.backendUrl.startsWith("file://")) return;
    const root = path.join(
      this.settings.backendUrl.slice("file://".length).split("?")[0],
      ".pulumi",
    );
    for (const dir of ["backups", "history", path.join("locks", "organization")])
      fs.rmSync(path.join(root, dir, ref.project, ref.stack), { recursive: true, force: true });
    for (const file of [
      `${ref.stack}.json.bak`,
      `${ref.stack}.json.attrs`,
      `${ref.stack}.json.bak.attrs`,
    ])
      fs.rmSync(path.join(root, "stacks", ref.project, file), { force: true });
  }

  /** Stack names of a project in the backend. */
  async list(project: string): Promise<string[]> {
    const ws = await this.workspace({ project, stack: "_list" }, async () => undefined);
    const stacks = await ws.listStacks();
    return stacks.map((s) => s.name).sort();
  }

  /** The Automation API stack object (cached per stack), with `program` set as the current one. */
  async stack(
    ref: StackRef,
    program: PulumiFn,
    create: boolean | "knownMissing" = true,
  ): Promise<Stack> {
    const key = this.key(ref);
    let stack = this.stacks.get(key);
    if (!stack) {
      stack = (async () => {
        const ws = await this.workspace(ref, program);
        if (create === "knownMissing")
          return Stack.create(ref.stack, ws).catch((e) => {
            if (e instanceof StackAlreadyExistsError) return Stack.select(ref.stack, ws);
            throw e;
          });
        return create ? Stack.createOrSelect(ref.stack, ws) : Stack.select(ref.stack, ws);
      })();
      this.stacks.set(key, stack);
      stack.catch(() => this.stacks.delete(key));
    }
    const s = await stack;
    (s.workspace as LocalWorkspace).program = program;
    return s;
  }

  private key(ref: StackRef): string {
    return `${ref.project}/${ref.stack}`;
  }

  private pulumiCommand(): Promise<PulumiCommand> {
    this.command ??= PulumiCommand.get(
      this.settings.pulumiRoot ? { root: this.settings.pulumiRoot } : undefined,
    );
    this.command.catch(() => (this.command = undefined));
    return this.command;
  }

  private async workspace(ref: StackRef, program: PulumiFn): Promise<LocalWorkspace> {
    const workDir = this.workDir(ref);
    fs.mkdirSync(workDir, { recursive: true });
    const pulumiCommand = await this.pulumiCommand();
    return LocalWorkspace.create({
      workDir,
      program,
      pulumiCommand,
      envVars: {
        PULUMI_BACKEND_URL: this.settings.backendUrl,
        PULUMI_CONFIG_PASSPHRASE: this.settings.passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        // Plugins come from PATH or the plugin cache; nothing is downloaded behind our back.
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        ...dynamicProviderEnv(pulumiCommand.command),
      },
      projectSettings: {
        name: ref.project,
        runtime: "nodejs",
        backend: { url: this.settings.backendUrl },
      },
    });
  }

  private execute<T>(
    target: StackTarget,
    opts: RunOptions,
    create: boolean,
    op: (
      stack: Stack,
      run: { signal: AbortSignal; onEvent?: (e: EngineEvent) => void },
      redact: (s: string) => string,
    ) => Promise<T>,
  ): Promise<T> {
    const name = this.key(target);
    // The engine's errors quote the state backend's URL, credentials included.
    const secrets = [
      this.settings.passphrase,
      ...urlPasswords(this.settings.backendUrl),
      ...(target.secrets ?? []),
    ];
    const redact = (text: string) => redactor(secrets)(text);
    return this.limiter.run(name, async () => {
      const timeout = opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined;
      const signals = [opts.signal, timeout].filter((s): s is AbortSignal => !!s);
      const signal = AbortSignal.any(signals);
      const fail = (e: unknown) => this.domainError(e, name, target, redact, opts, timeout);
      if (signal.aborted) throw await fail(undefined);
      let cancelling = false;
      const onEvent = (e: EngineEvent) => {
        if (e.stdoutEvent?.message.includes(CANCELLING)) cancelling = true;
        const p = opts.onProgress && toProgressEvent(e, redact);
        if (p) opts.onProgress!(p);
      };
      const stopInterrupting = interruptUntilCancelling(
        this.workDir(target),
        signal,
        () => cancelling,
      );
      let stack: Stack | undefined;
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            const mode = create && target.knownMissing && attempt === 0 ? "knownMissing" : create;
            stack = await this.stack(target, target.program, mode);
            if (target.prepare) secrets.push(...(await target.prepare(stack)));
            return await op(stack, { signal, onEvent }, redact);
          } catch (e) {
            // Swarm refused a service update made against a version that just changed: the run
            // again (at most twice) reads the new one.
            if (attempt < 2 && !signal.aborted && swarmVersionConflict(String(e))) continue;
            if (
              attempt < 2 &&
              !signal.aborted &&
              (await target.recover?.(String(e)).catch(() => false))
            )
              continue;
            if (attempt === 0 && stack && e instanceof ConcurrentUpdateError && !signal.aborted) {
              if (locksAreStale(lockHolders(e.message))) {
                await stack.cancel(); // the DIY backend's cancel removes the lock files
                continue;
              }
            }
            throw await fail(e);
          }
        }
      } finally {
        stopInterrupting();
      }
    });
  }

  private async domainError(
    e: unknown,
    stack: string,
    target: StackTarget,
    redact: (s: string) => string,
    opts: RunOptions,
    timeout: AbortSignal | undefined,
  ): Promise<Error> {
    if (timeout?.aborted) return new RunTimedOutError(stack, opts.timeoutMs!);
    if (opts.signal?.aborted) return new RunCancelledError(`run on ${stack} was cancelled`, stack);
    if (
      e instanceof PulumiStackNotFoundError ||
      (e instanceof CommandError && /no stack named/.test(e.message))
    )
      return new StackNotFoundError(`stack ${stack} does not exist`, stack);
    if (e instanceof ConcurrentUpdateError) {
      const holders = lockHolders(e.message)
        .map((h) => `${h.user}@${h.host} pid ${h.pid} since ${h.at}`)
        .join("; ");
      return new StackLockedError(
        `stack ${stack} is locked by another update (${holders || "unknown holder"})`,
        stack,
      );
    }
    if (e instanceof CommandError) {
      const text = redact(stripAnsi(e.message));
      const errors = engineErrors(text);
      // Said first, in the operator's words: nothing is wrong with the tenant, retrying will do.
      const engines = [dockerEndpoint(), ...((await target.engines?.().catch(() => [])) ?? [])];
      const unreachable = await unreachableEngine(text, [...new Set(engines)]);
      const why = unreachable
        ? `: the Docker engine at ${unreachable} cannot be reached (stopped or restarting?)`
        : "";
      return new EngineError(
        `engine run on ${stack} failed${why}${errors ? `: ${errors}` : ""}`,
        stack,
        tail(text),
      );
    }
    return e instanceof Error
      ? new EngineError(redact(e.message), stack, "")
      : new EngineError(String(e), stack, "");
  }
}

/** A state resource with its dependencies on `gone` dropped. */
function withoutReferencesTo(
  r: Record<string, unknown>,
  gone: Set<string>,
): Record<string, unknown> {
  const keep = (urns: unknown) =>
    ((urns as string[] | undefined) ?? []).filter((u) => !gone.has(u));
  const out: Record<string, unknown> = { ...r };
  if (r.dependencies) out.dependencies = keep(r.dependencies);
  if (r.propertyDependencies)
    out.propertyDependencies = Object.fromEntries(
      Object.entries(r.propertyDependencies as Record<string, string[]>).map(([k, v]) => [
        k,
        keep(v),
      ]),
    );
  if (typeof r.deletedWith === "string" && gone.has(r.deletedWith)) delete out.deletedWith;
  return out;
}
