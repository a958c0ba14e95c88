/** Replaces every occurrence of the given secrets (and their base64 forms) with `[secret]`. */
export function redactor(secrets: Iterable<string | undefined>): (text: string) => string {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < 4) continue; // too short to redact without mangling ordinary text
    needles.add(s);
    needles.add(Buffer.from(s).toString("base64"));
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  return (text) => sorted.reduce((t, needle) => t.split(needle).join("[secret]"), text);
}

/** The password in a URL with credentials (a postgres:// state backend), as written and decoded. */
export function urlPasswords(url: string): string[] {
  try {
    const password = new URL(url).password;
    return password ? [password, decodeURIComponent(password)] : [];
  } catch {
    return [];
  }
}

/** The last `lines` lines of a text. */
export function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

/** The engine's generic closing lines, which say that something failed but not what. */
const GENERIC_FAILURE = /^error: (update|preview|destroy|refresh) failed$/;

/**
 * What the engine said went wrong: its `error:` diagnostics (the providers' own messages, with
 * the continuation lines that belong to them), without the generic "update failed" line.
 */
export function engineErrors(text: string): string {
  const lines = text.split("\n");
  const found: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)error: /.exec(lines[i]);
    if (!m) continue;
    const message = [lines[i].trim()];
    // Continuation lines are indented deeper than the `error:` line.
    while (
      i + 1 < lines.length &&
      /^\s+\S/.test(lines[i + 1]) &&
      lines[i + 1].search(/\S/) > m[1].length
    )
      message.push(lines[++i].trim());
    const joined = message.join(" ");
    if (!GENERIC_FAILURE.test(joined) && !found.includes(joined)) found.push(joined);
  }
  return found.join("; ");
}
