import type Docker from "dockerode";

interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

/**
 * The scratch volumes restore drills mounted between `since` and now (seconds since the epoch),
 * read from the engine's events: each drill agent's container (labelled `odoo-saas.verb=drill`)
 * and the volume mounted at its /filestore. Other suites' volumes on the same engine never count.
 */
export async function drillScratchVolumes(docker: Docker, since: number): Promise<string[]> {
  const stream = (await docker.getEvents({
    since,
    until: Math.ceil(Date.now() / 1000) + 1,
  })) as unknown as NodeJS.ReadableStream;
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  const events = text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EngineEvent);
  const agents = new Set(
    events
      .filter(
        (e) =>
          e.Type === "container" &&
          e.Action === "create" &&
          e.Actor.Attributes["odoo-saas.verb"] === "drill",
      )
      .map((e) => e.Actor.ID),
  );
  return events
    .filter(
      (e) =>
        e.Type === "volume" &&
        e.Action === "mount" &&
        agents.has(e.Actor.Attributes.container) &&
        e.Actor.Attributes.destination === "/filestore",
    )
    .map((e) => e.Actor.ID);
}
