import type Docker from "dockerode";
import { demuxed } from "../../automation/docker-output";

export { demuxed };

/** Runs a command inside a running container; its standard output. */
export async function execOutput(container: Docker.Container, cmd: string[]): Promise<string> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  await new Promise((resolve) => {
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", resolve);
  });
  return demuxed(Buffer.concat(chunks), true);
}
