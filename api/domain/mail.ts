/** A mail as it is written (api/mail/messages.ts) and kept in the outbox until sent. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}
