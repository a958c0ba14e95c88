import Docker from "dockerode";
import { readLocalImages } from "../../automation/local-platform";

/**
 * The local Odoo 17 stand-in taking `seconds` to load before it answers, as Odoo does (its
 * STAND_IN_START_DELAY_SECONDS), as an image of its own, made once per engine.
 */
export async function odooWithLoadTime(seconds: number): Promise<string> {
  const docker = new Docker();
  const base = readLocalImages().ODOO_SAAS_ODOO_IMAGE_17;
  const tag = `${base}-load${seconds}s`;
  const exists = await docker
    .getImage(tag)
    .inspect()
    .then(() => true)
    .catch(() => false);
  if (exists) return tag;
  const c = await docker.createContainer({ Image: base, Cmd: ["true"] });
  try {
    const [repo, version] = tag.split(/:(?=[^:]+$)/);
    await c.commit({
      repo,
      tag: version,
      changes: [`ENV STAND_IN_START_DELAY_SECONDS=${seconds}`],
    });
  } finally {
    await c.remove({ force: true });
  }
  return tag;
}
