/**
 * Where a PostgreSQL image keeps its data, so the volume is mounted there. The official images
 * up to 17 use `/var/lib/postgresql/data`; from 18 on, PGDATA is `/var/lib/postgresql/18/docker`
 * under `VOLUME /var/lib/postgresql`, so the volume goes on `/var/lib/postgresql` (mounting the old
 * path would leave the data in an anonymous volume). The major version is read from the tag
 * (`postgres:18`, `postgres:18.1-trixie`, `registry/postgres:18-alpine`); an image whose tag names
 * no version (e.g. a locally built one) keeps the classic path.
 */
export function postgresDataPath(image: string): string {
  const tag = image.includes("@") ? "" : (image.split("/").pop()!.split(":")[1] ?? "");
  const major = Number(tag.match(/^(\d{1,2})(?:$|[.-])/)?.[1]);
  return major >= 18 ? "/var/lib/postgresql" : "/var/lib/postgresql/data";
}
