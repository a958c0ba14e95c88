import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation";

/** Progress of one engine run, as the API streams it (no property values, so no secrets). */
export type ProgressEvent =
  | { kind: "resource-started"; urn: string; type: string; name: string; op: OpType }
  | {
      kind: "resource-finished";
      urn: string;
      type: string;
      name: string;
      op: OpType;
      failed: boolean;
    }
  | { kind: "diagnostic"; severity: "info" | "warning" | "error"; message: string; urn?: string }
  | { kind: "summary"; result: string; changes: Record<string, number>; durationSeconds: number };

export const resourceName = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

/** Maps the engine's event stream to ProgressEvents; returns undefined for events of no interest. */
export function toProgressEvent(
  event: EngineEvent,
  redact: (s: string) => string,
): ProgressEvent | undefined {
  const step = (m: StepEventMetadata) => ({
    urn: m.urn,
    type: m.type,
    name: resourceName(m.urn),
    op: m.op,
  });
  if (event.resourcePreEvent && !event.resourcePreEvent.planning)
    return { kind: "resource-started", ...step(event.resourcePreEvent.metadata) };
  if (event.resOutputsEvent && !event.resOutputsEvent.planning)
    return { kind: "resource-finished", ...step(event.resOutputsEvent.metadata), failed: false };
  if (event.resOpFailedEvent)
    return { kind: "resource-finished", ...step(event.resOpFailedEvent.metadata), failed: true };
  if (event.diagnosticEvent && !event.diagnosticEvent.ephemeral) {
    const d = event.diagnosticEvent;
    // Only what a person should see: info, warning, error (not debug, not stderr chatter).
    if (d.severity !== "info" && d.severity !== "warning" && d.severity !== "error")
      return undefined;
    const severity = d.severity;
    return {
      kind: "diagnostic",
      severity,
      message: redact(stripAnsi(d.message).trim()),
      urn: d.urn,
    };
  }
  if (event.summaryEvent) {
    const s = event.summaryEvent;
    return {
      kind: "summary",
      result: s.maybeCorrupt ? "corrupt" : "done",
      changes: { ...(s.resourceChanges as Record<string, number>) },
      durationSeconds: s.durationSeconds,
    };
  }
  return undefined;
}

export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m|<\{%[a-zA-Z]*%\}>/g, "");
}
