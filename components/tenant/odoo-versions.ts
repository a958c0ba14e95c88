/** Odoo major versions the platform hosts. */
export const ODOO_VERSIONS = ["14", "15", "16", "17", "18", "19"] as const;
export type OdooVersion = (typeof ODOO_VERSIONS)[number];

/**
 * Versions whose official image odoo/docker no longer builds (the month it was removed): the
 * image is frozen and gets no security fixes. Existing tenants keep running on them; new tenants
 * are not offered them.
 */
export const UNMAINTAINED_ODOO_VERSIONS: Partial<Record<OdooVersion, string>> = {
  "14": "2023-11",
  "15": "2024-10",
  "16": "2025-09",
};

/** Why a new tenant may not start on `version`, or undefined when it may. */
export function unmaintainedReason(version: OdooVersion): string | undefined {
  const removed = UNMAINTAINED_ODOO_VERSIONS[version];
  if (!removed) return undefined;
  const offered = ODOO_VERSIONS.filter((v) => !UNMAINTAINED_ODOO_VERSIONS[v]).join(", ");
  return `Odoo ${version}'s official image is no longer maintained (removed from odoo/docker in ${removed}); new tenants use ${offered}`;
}

/**
 * The path Odoo serves real-time traffic on (through the gevent worker on port 8072 when
 * workers > 0): `/longpolling/` up to 15, `/websocket` from 16 on.
 */
export function realtimeRoute(version: OdooVersion): { rule: string; path: string } {
  return Number(version) >= 16
    ? { rule: "Path(`/websocket`)", path: "/websocket" }
    : { rule: "PathPrefix(`/longpolling/`)", path: "/longpolling/" };
}

/** The official image tag of a version, used when the platform configures no image of its own. */
export function defaultOdooImage(version: OdooVersion): string {
  return `odoo:${version}.0`;
}
