import nodemailer, { type Transporter } from "nodemailer";
import type { Mail } from "../domain/mail";

/** Sends one mail over SMTP; failures throw so the mail job is retried with backoff. */
export class Mailer {
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    const url = new URL(smtpUrl);
    this.transport = nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port) || (url.protocol === "smtps:" ? 465 : 25),
      secure: url.protocol === "smtps:",
      auth: url.username
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : undefined,
      connectionTimeout: 10000,
      greetingTimeout: 10000,
    });
  }

  /** `outboxId` makes a stable Message-ID: a copy sent again after a crash is recognisable. */
  async send(mail: Mail, outboxId: string): Promise<void> {
    await this.transport.sendMail({
      messageId: `<outbox-${outboxId}@${this.domain}>`,
      from: this.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
    });
  }

  private get domain(): string {
    return /@([^>\s]+)/.exec(this.from)?.[1] ?? "odoo-saas.invalid";
  }

  close(): void {
    this.transport.close();
  }
}
