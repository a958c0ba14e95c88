import type { FleetResult } from "./fleet";
import type { ResourceChange } from "./stack-runner";

/**
 * A fleet drift check as Markdown: how many tenants drifted, then per tenant each resource
 * changed (`~`, with the names of the properties that differ) or deleted (`-`) out of band, and
 * the tenants whose check failed. Values are never shown; the same results give the same text.
 */
export function driftMarkdown(
  results: FleetResult<ResourceChange[]>[],
  fixed: ReadonlySet<string> = new Set(),
): string {
  const sorted = [...results].sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  const drifted = sorted.filter((r) => r.ok && r.value.length > 0) as Extract<
    FleetResult<ResourceChange[]>,
    { ok: true }
  >[];
  const failed = sorted.filter((r) => !r.ok) as Extract<
    FleetResult<ResourceChange[]>,
    { ok: false }
  >[];
  const lines = [
    `## Drift: ${drifted.length} of ${sorted.length} tenant${sorted.length === 1 ? "" : "s"} changed out of band` +
      (failed.length ? `, ${failed.length} not checked` : ""),
    "",
  ];
  for (const r of drifted) {
    lines.push(`### ${r.tenantId} (${r.plan})${fixed.has(r.tenantId) ? ": fixed" : ""}`, "");
    for (const c of r.value) {
      const props = c.changedProperties.length
        ? `: ${c.changedProperties.map((p) => `\`${p}\``).join(", ")}`
        : "";
      const what = c.op === "delete" ? "`-` deleted" : "`~` changed";
      lines.push(`- ${what} \`${c.type}\` **${c.name}**${props}`);
    }
    lines.push("");
  }
  if (failed.length) {
    lines.push("### Not checked", "");
    for (const r of failed) lines.push(`- **${r.tenantId}**: ${r.error.split("\n")[0]}`);
    lines.push("");
  }
  return lines.join("\n");
}
