// A throwaway container run to its end: what tests and benchmarks use for a command beside the
// platform (a floor's raw commands, a look inside a volume, a client on a tenant's network).
import Docker from "dockerode";
import { DockerDemux } from "../../backup/demux";

export interface OneShot {
  image: string;
  /** A bash script run as the entrypoint, or the image's own entrypoint with `cmd`. */
  script?: string;
  cmd?: string[];
  env?: string[];
  mounts?: Docker.MountSettings[];
  network?: string;
  capAdd?: string[];
}

/** Runs the container to its end and returns its output (stdout and stderr); throws on a non-zero exit. */
export async function runToEnd(docker: Docker, spec: OneShot): Promise<string> {
  const c = await docker.createContainer({
    Image: spec.image,
    ...(spec.script ? { Entrypoint: ["bash", "-c", spec.script] } : {}),
    Cmd: spec.cmd,
    Env: spec.env,
    HostConfig: { Mounts: spec.mounts, NetworkMode: spec.network, CapAdd: spec.capAdd },
  });
  try {
    await c.start();
    const { StatusCode } = await c.wait();
    const frames = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    let out = "";
    const demux = new DockerDemux((e) => (out += e.toString("utf8")));
    demux.on("data", (d: Buffer) => (out += d.toString("utf8")));
    demux.end(frames);
    await new Promise((r) => demux.once("end", r));
    if (StatusCode !== 0)
      throw new Error(
        `${spec.script ?? spec.cmd?.join(" ")} exited ${StatusCode}: ${out.slice(-800)}`,
      );
    return out.trim();
  } finally {
    await c.remove({ force: true, v: true });
  }
}
