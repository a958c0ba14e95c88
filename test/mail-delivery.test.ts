// Sending outbox mail on the real PostgreSQL and a real SMTP receiver: one copy per mail, whoever
// tries to send it and whatever fails in between.
import { Pool } from "pg";
import { createLogger } from "../api/common/logger";
import { MailDelivery } from "../api/mail/delivery";
import { Mailer } from "../api/mail/mailer";
import { MailOutboxStore } from "../api/store/mail-outbox-store";
import { migratedDatabase } from "./helpers/migrated-database";
import { SmtpReceiver } from "./smtp-receiver";

const database = migratedDatabase("mail");
const smtp = new SmtpReceiver();
let pool: Pool;
let store: MailOutboxStore;
let mailer: Mailer;
const logger = createLogger("silent");

beforeAll(async () => {
  pool = await database.create();
  store = new MailOutboxStore(pool);
  await smtp.start();
  mailer = new Mailer(smtp.url, "Odoo SaaS <billing@saas.example>");
});

afterAll(async () => {
  mailer.close();
  await smtp.stop();
  await database.drop(pool);
});

const copies = (id: string) =>
  smtp.messages.filter((m) => m.raw.includes(`Message-ID: <outbox-${id}@saas.example>`)).length;

test("senders racing for one mail (two processes, a retry, the sweeper) send it once", async () => {
  const id = await store.add({ to: "a@example.com", subject: "ready", text: "hi" });
  const senders = Array.from({ length: 6 }, () => new MailDelivery(store, mailer, logger));
  const results = await Promise.all(senders.map((s) => s.deliver(id)));
  expect(results.filter((r) => r === "sent")).toHaveLength(1);
  expect(copies(id)).toBe(1);
  expect(await store.stale(0)).not.toContain(id);
});

test("a mail SMTP refused is released: the retry sends it at once", async () => {
  const id = await store.add({ to: "b@example.com", subject: "suspended", text: "pay" });
  const delivery = new MailDelivery(store, mailer, logger);
  smtp.failNext = 1;
  await expect(delivery.deliver(id)).rejects.toThrow(/451/);
  expect(await delivery.deliver(id)).toBe("sent");
  expect(copies(id)).toBe(1);
});

test("a database that fails while the send is recorded is waited out: no second copy", async () => {
  const id = await store.add({ to: "c@example.com", subject: "resumed", text: "ok" });
  // The database refuses the first two writes after the SMTP answer, as during an outage.
  let refusals = 2;
  const flaky = Object.create(store) as MailOutboxStore;
  flaky.markSent = async (x) => {
    if (refusals-- > 0) throw new Error("Connection terminated unexpectedly");
    return store.markSent(x);
  };
  expect(await new MailDelivery(flaky, mailer, logger).deliver(id)).toBe("sent");
  expect(await new MailDelivery(store, mailer, logger).deliver(id)).toBe("not-mine");
  expect(copies(id)).toBe(1);
  expect(refusals).toBe(-1);
});

test("a sender that died after claiming leaves the mail to the sweeper once its claim runs out", async () => {
  const id = await store.add({ to: "d@example.com", subject: "backup", text: "done" });
  await store.claim(id, 500); // the dead sender's claim
  expect(await store.stale(0)).not.toContain(id);
  expect(await new MailDelivery(store, mailer, logger).deliver(id)).toBe("not-mine");
  await new Promise((r) => setTimeout(r, 700));
  expect(await store.stale(0)).toContain(id);
  expect(await new MailDelivery(store, mailer, logger).deliver(id)).toBe("sent");
  expect(copies(id)).toBe(1);
});
