// A real SMTP receiver (smtp-server) on 127.0.0.1 that keeps every message it accepts.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  to: string[];
  subject: string;
  /** When it was received (ms since the epoch). */
  at: number;
  raw: string;
}

export class SmtpReceiver {
  readonly messages: ReceivedMail[] = [];
  /** Reject the next N messages (to test retries). */
  failNext = 0;
  private server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (this.failNext > 0) {
          this.failNext--;
          return callback(new Error("451 try again later"));
        }
        // Unfold long header lines and join the body's quoted-printable soft line breaks, so
        // tests can search the text as it was written (each in its part: a soft break followed
        // by a space is no folded header).
        const message = Buffer.concat(chunks).toString("utf8");
        const end = message.search(/\r?\n\r?\n/);
        const [head, body] = end < 0 ? [message, ""] : [message.slice(0, end), message.slice(end)];
        const raw = head.replace(/\r?\n[ \t]+/g, " ") + body.replace(/=\r?\n/g, "");
        const subject = /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? "";
        this.messages.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          subject,
          raw,
          at: Date.now(),
        });
        callback();
      });
    },
  });
  url = "";

  /**
   * Listens on `host`: loopback, or the address containers reach this machine at (the engine's
   * default bridge's gateway) for services in containers that mail the test.
   */
  async start(host = "127.0.0.1"): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, host, () => r()));
    this.url = `smtp://${host}:${(this.server.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
