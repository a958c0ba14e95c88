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

/** The last `lines` lines of a text. */
export function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}
