/** Odoo major versions the platform hosts. */
export const ODOO_VERSIONS = ["14", "15", "16", "17", "18"] as const;
export type OdooVersion = (typeof ODOO_VERSIONS)[number];

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
