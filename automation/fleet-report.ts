import type { FleetPreview, FleetResult } from "./fleet";
import type { PreviewOutcome, ResourceChange } from "./stack-runner";

const OP_SYMBOL: Record<string, string> = {
  create: "+",
  update: "~",
  replace: "+-",
  "create-replacement": "+-",
  "delete-replaced": "+-",
  delete: "-",
};

/** Steps that count as a change in a report (a replacement shows once, as `replace`). */
function reportable(changes: ResourceChange[]): ResourceChange[] {
  return changes.filter((c) => c.op !== "create-replacement" && c.op !== "delete-replaced");
}

function counts(changes: ResourceChange[]) {
  const c = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const r of reportable(changes)) if (r.op in c) c[r.op as keyof typeof c]++;
  return c;
}

export interface ReportOptions {
  /** Leave unchanged tenants out entirely (not even counted in the summary line). */
  changedOnly?: boolean;
}

/**
 * A fleet preview as Markdown for a pull-request comment: a summary table of the tenants that
 * would change, then per tenant each resource with its operation and changed property names
 * (values are never shown, so nothing secret), unchanged tenants collapsed into a count, and
 * errors listed. Deterministic: the same previews always give the same text.
 */
export function fleetPreviewMarkdown(
  results: FleetResult<FleetPreview>[],
  opts: ReportOptions = {},
): string {
  const sorted = [...results].sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  const changed = sorted.filter((r) => r.ok && reportable(r.value.changes).length > 0) as Extract<
    FleetResult<PreviewOutcome>,
    { ok: true }
  >[];
  const unchanged = sorted.filter((r) => r.ok && reportable(r.value.changes).length === 0);
  const skipped = unchanged.filter((r) => r.ok && r.value.skippedByFingerprint).length;
  const failed = sorted.filter((r) => !r.ok) as Extract<
    FleetResult<PreviewOutcome>,
    { ok: false }
  >[];
  const lines: string[] = [];
  const total = opts.changedOnly ? changed.length + failed.length : sorted.length;
  lines.push(
    `## Fleet preview: ${changed.length} of ${total} tenant${total === 1 ? "" : "s"} would change` +
      (failed.length ? `, ${failed.length} failed` : ""),
    "",
  );
  if (changed.length) {
    lines.push(
      "| tenant | plan | create | update | replace | delete |",
      "| --- | --- | ---: | ---: | ---: | ---: |",
    );
    for (const r of changed) {
      const c = counts(r.value.changes);
      lines.push(
        `| ${r.tenantId} | ${r.plan} | ${c.create} | ${c.update} | ${c.replace} | ${c.delete} |`,
      );
    }
    lines.push("");
    for (const r of changed) {
      lines.push(`### ${r.tenantId} (${r.plan})`, "");
      for (const c of reportable(r.value.changes)) {
        const props = c.changedProperties.length
          ? `: ${c.changedProperties.map((p) => `\`${p}\``).join(", ")}`
          : "";
        lines.push(`- \`${OP_SYMBOL[c.op] ?? c.op}\` ${c.op} \`${c.type}\` **${c.name}**${props}`);
      }
      lines.push("");
    }
  }
  if (unchanged.length && !opts.changedOnly) {
    lines.push(
      `<details><summary>${unchanged.length} tenant${unchanged.length === 1 ? "" : "s"} unchanged` +
        (skipped ? ` (${skipped} not previewed: inputs as applied, by fingerprint)` : "") +
        "</summary>",
      "",
      unchanged.map((r) => r.tenantId).join(", "),
      "",
      "</details>",
      "",
    );
  }
  if (failed.length) {
    lines.push("### Errors", "");
    for (const r of failed) lines.push(`- **${r.tenantId}**: ${r.error.split("\n")[0]}`);
    lines.push("");
  }
  return lines.join("\n");
}
