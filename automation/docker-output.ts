/**
 * The text of Docker's multiplexed output (logs, exec, without a TTY): frames of an 8-byte header
 * (stream in byte 0, size at 4) and data. `stdoutOnly` drops stderr's frames.
 */
export function demuxed(raw: Buffer, stdoutOnly = false): string {
  let text = "";
  for (let i = 0; i + 8 <= raw.length; i += 8 + raw.readUInt32BE(i + 4))
    if (!stdoutOnly || raw[i] === 1)
      text += raw.subarray(i + 8, i + 8 + raw.readUInt32BE(i + 4)).toString("utf8");
  return text;
}
