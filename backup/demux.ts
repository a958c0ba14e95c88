import { Transform, type TransformCallback } from "node:stream";

/**
 * Docker's multiplexed attach stream (8-byte frame headers, stream 1 = stdout, 2 = stderr) as a
 * Transform that passes stdout on and hands stderr to a callback. Unlike dockerode's demuxStream
 * it honours backpressure, so a slow reader (an export zipped on the fly) slows the container
 * down instead of buffering its whole output in memory.
 */
export class DockerDemux extends Transform {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onStderr: (chunk: Buffer) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size);
      if (this.pending[0] === 2) this.onStderr(payload);
      else this.push(payload);
      this.pending = this.pending.subarray(8 + size);
    }
    done();
  }
}
