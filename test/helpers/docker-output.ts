import type Docker from "dockerode";

/**
 * The text of Docker's multiplexed output (logs, exec): frames of an 8-byte header (stream in
 * byte 0, size at 4) and data. `stdoutOnly` drops stderr's frames.
 */
export function demuxed(raw: Buffer, stdoutOnly = false): string {
  let text = "";
  for (let i = 0; i + 8 <= raw.length; i += 8 + raw.readUInt32BE(i + 4))
    if (!stdoutOnly || raw[i] === 1)
      text += raw.subarray(i + 8, i + 8 + raw.readUInt32BE(i + 4)).toString("utf8");
  return text;
}

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
