import * as path from "node:path";
import { Option, type Command } from "commander";
import {
  fleetDrift,
  fleetPreview,
  fleetUp,
  type FleetResult,
  type FleetSpec,
} from "../../automation/fleet";
import { driftMarkdown } from "../../automation/drift-report";
import { fleetPreviewMarkdown } from "../../automation/fleet-report";
import { rollout, rolloutOrder } from "../../automation/rollout";
import { RolloutJournal } from "../../automation/rollout-journal";
import { waitForRoute } from "../../automation/route-health";
import { loadCatalog } from "../../catalog";
import { specsOption, UsageError, type CliContext } from "../context";
import { FleetStore } from "../fleet-store";
import { rolloutReporter } from "../rollout-reporter";

/** `fleet …`: every tenant at once (previews, rollouts, drift). */
export function registerFleetCommands(program: Command, ctx: CliContext): void {
  const fleet = program.command("fleet").description("every tenant at once");
  const fleetCommand = (name: string) =>
    fleet
      .command(name)
      .addOption(specsOption())
      .addOption(
        new Option("--concurrency <n>", "tenants at once").default(4).argParser((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1 || n > 64)
            throw new UsageError("--concurrency takes a whole number from 1 to 64");
          return n;
        }),
      );
  /** The API's store when it is the source of the specs (no --specs file). */
  const fleetStore = (o: { specs?: string; concurrency?: number }) =>
    !o.specs && ctx.deps.env.DATABASE_URL
      ? FleetStore.open(ctx.deps.env.DATABASE_URL, o.concurrency)
      : undefined;
  /** Where the fingerprints of applied stacks are read: the store, else each stack's outputs. */
  const appliedFingerprints = async (store: FleetStore | undefined) => {
    if (store) {
      const stored = await store.appliedFingerprints();
      return async (id: string) => stored.get(id);
    }
    return (id: string) => ctx.tenantStacks().appliedFingerprint(id);
  };
  /** The tenants whose inputs differ from those their stack was applied with (all with --all). */
  const changedSpecs = async (o: { specs?: string; all?: boolean }, store?: FleetStore) => {
    const all = (await ctx.specs(o)) as FleetSpec[];
    if (o.all) return all;
    const applied = await appliedFingerprints(store);
    const changed = await Promise.all(
      all.map(
        async (s) => (await ctx.tenantStacks().fingerprint(s)) !== (await applied(s.tenantId)),
      ),
    );
    return all.filter((_, i) => changed[i]);
  };
  fleetCommand("preview")
    .description(
      "preview the tenants whose inputs changed since they were applied (--all: every tenant); --markdown for a pull-request comment",
    )
    .option("--all", "preview every tenant, even those whose inputs are as applied")
    .option("--markdown", "a Markdown report")
    .option("--changed-only", "leave unchanged tenants out")
    .option("--json", "machine-readable output")
    .action(async (o) => {
      const store = fleetStore(o);
      const results = await fleetPreview(ctx.tenantStacks(), (await ctx.specs(o)) as FleetSpec[], {
        concurrency: o.concurrency,
        onResult: ctx.progress("previewed"),
        applied: o.all ? undefined : await appliedFingerprints(store),
      }).finally(() => store?.close());
      if (o.json)
        ctx.json(
          results.map((r) =>
            r.ok ? { ...r, value: { changes: r.value.changes, counts: r.value.counts } } : r,
          ),
        );
      else if (o.markdown) ctx.out(fleetPreviewMarkdown(results, { changedOnly: o.changedOnly }));
      else
        for (const r of results)
          if (!o.changedOnly || !r.ok || r.value.changes.length) ctx.out(summaryLine(r));
      if (results.some((r) => !r.ok)) ctx.failed();
    });
  const count = (flag: string, least: number) => (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < least)
      throw new UsageError(`${flag} takes a whole number of at least ${least}`);
    return n;
  };
  fleetCommand("up")
    .description(
      "roll the tenants whose inputs changed (--all: every tenant) to their specs: a canary, then batches, each backed up first; stops on failures, resumes with --resume",
    )
    .option("--all", "every tenant, even those whose inputs are as applied")
    .addOption(
      new Option("--canary <n>", "tenants applied first; any failure stops the rollout")
        .default(1)
        .argParser(count("--canary", 0)),
    )
    .addOption(
      new Option("--batch-size <n>", "tenants per batch after the canary")
        .default(10)
        .argParser(count("--batch-size", 1)),
    )
    .addOption(
      new Option("--max-failures <n>", "stop the rollout once this many tenants failed")
        .default(1)
        .argParser(count("--max-failures", 1)),
    )
    .option("--resume", "continue the rollout that stopped or was killed")
    .option(
      "--state-file <file>",
      "where the rollout's progress is kept (default: <data dir>/rollouts/fleet-up.json)",
    )
    .option(
      "--health-path <path>",
      "after each up, this path of an active tenant's route must answer 2xx",
      "/web/health",
    )
    .option("--no-health-check", "no health check after each up")
    .option(
      "--health-via <url>",
      "reach tenants' routes through this http:// router address (Host header: the tenant's)",
    )
    .addOption(
      new Option("--health-timeout <s>", "seconds a tenant's route has to answer")
        .default(120)
        .argParser(count("--health-timeout", 1)),
    )
    .option("--no-backup", "no backup before each batch (else one per tenant, through the API)")
    .option("--json", "one JSON line per event instead of a progress bar")
    .action(async (o) => {
      if (o.backup && !ctx.deps.env.ADMIN_TOKEN)
        throw new UsageError(
          "fleet up backs up each batch through the API: set ODOO_SAAS_API_URL and ADMIN_TOKEN, or pass --no-backup",
        );
      const store = fleetStore(o);
      try {
        const fleetSpecs = o.resume
          ? ((await ctx.specs(o)) as FleetSpec[])
          : await changedSpecs(o, store);
        const outputs = new Map<string, Record<string, unknown>>();
        const up = async (spec: FleetSpec) => {
          const run = () => ctx.tenantStacks().up(spec);
          const result = store ? await store.applying(spec.tenantId, run) : await run();
          outputs.set(spec.tenantId, result.outputs);
        };
        const health = async (spec: FleetSpec) => {
          const url = outputs.get(spec.tenantId)?.url;
          if (spec.state === "suspended" || typeof url !== "string") return; // no route to check
          await waitForRoute({
            url,
            path: o.healthPath,
            via: o.healthVia,
            timeoutMs: o.healthTimeout * 1000,
          });
        };
        /** An operation of the API's, followed to its end; throws unless it succeeded. */
        const apiOperation = async (what: string, path: string, body?: unknown) => {
          const queued = await ctx.adminApi().call<{ id: string }>("POST", path, body);
          const op = await ctx.adminApi().follow(queued.id, () => undefined);
          if (op.status !== "succeeded") throw new Error(`${what} ${op.status}: ${op.error ?? ""}`);
          return op;
        };
        const backup = async (spec: FleetSpec) => {
          const op = await apiOperation("backup", `/admin/tenants/${spec.tenantId}/backups`);
          return (op.details as { backupId?: string } | null)?.backupId;
        };
        const restore = async (spec: FleetSpec, backupId: string) => {
          await apiOperation("restore", `/admin/tenants/${spec.tenantId}/restore`, { backupId });
        };
        const report = rolloutReporter(!!o.json, ctx.deps.terminal, ctx.out, ctx.err);
        const ok = await rollout(
          fleetSpecs,
          rolloutOrder(fleetSpecs, ctx.deps.catalog ?? loadCatalog()),
          {
            up,
            health: o.healthCheck ? health : undefined,
            ...(o.backup ? { backup, restore } : {}),
          },
          {
            canary: o.canary,
            batchSize: o.batchSize,
            maxFailures: o.maxFailures,
            concurrency: o.concurrency,
            resume: !!o.resume,
            journal: new RolloutJournal(
              o.stateFile ??
                path.join(ctx.automationSettings().dataDir, "rollouts", "fleet-up.json"),
            ),
            onEvent: report,
          },
        );
        if (!ok) ctx.failed();
      } finally {
        await store?.close();
      }
    });

  fleetCommand("drift")
    .description(
      "report resources changed or deleted out of band (refresh, preview only); --fix runs up for the drifted tenants",
    )
    .option("--fix", "bring each drifted tenant back to its spec (an up)")
    .option("--markdown", "a Markdown report")
    .option("--json", "machine-readable output")
    .action(async (o) => {
      const store = fleetStore(o);
      try {
        const all = (await ctx.specs(o)) as FleetSpec[];
        const results = await fleetDrift(ctx.tenantStacks(), all, {
          concurrency: o.concurrency,
          onResult: ctx.progress("checked"),
        });
        const drifted = results.filter((r) => r.ok && r.value.length > 0);
        const fixed = new Set<string>();
        if (o.fix)
          for (const r of await fleetUp(
            ctx.tenantStacks(),
            all.filter((s) => drifted.some((d) => d.tenantId === s.tenantId)),
            {
              concurrency: o.concurrency,
              onResult: ctx.progress("fixed"),
              refresh: true,
              apply: store ? (id, up) => store.applying(id, up) : undefined,
            },
          ))
            if (r.ok) fixed.add(r.tenantId);
        if (o.json)
          ctx.json(results.map((r) => (r.ok ? { ...r, fixed: fixed.has(r.tenantId) } : r)));
        else if (o.markdown) ctx.out(driftMarkdown(results, fixed));
        else
          for (const r of results)
            ctx.out(
              !r.ok
                ? `${r.tenantId}: not checked: ${r.error.split("\n")[0]}`
                : r.value.length
                  ? `${r.tenantId}: ${r.value.map((c) => `${c.op === "delete" ? "deleted" : "changed"} ${c.name}`).join(", ")}${fixed.has(r.tenantId) ? " (fixed)" : ""}`
                  : `${r.tenantId}: no drift`,
            );
        const unfixed = drifted.filter((r) => !fixed.has(r.tenantId));
        if (unfixed.length || results.some((r) => !r.ok)) ctx.failed();
      } finally {
        await store?.close();
      }
    });
}

function summaryLine(
  r: FleetResult<{ changes: unknown[]; counts: Record<string, number> }>,
): string {
  if (!r.ok) return `${r.tenantId}: error: ${r.error.split("\n")[0]}`;
  const changes = Object.entries(r.value.counts)
    .filter(([op]) => op !== "same")
    .map(([op, n]) => `${n} to ${op}`);
  return `${r.tenantId}: ${changes.length ? changes.join(", ") : "no changes"}`;
}
