import pino from "pino";

/** Structured logs; anything that looks like a credential is removed before it is written. */
export function createLogger(level: string) {
  return pino({
    level,
    redact: {
      paths: [
        "req.headers.authorization",
        "*.password",
        "*.passphrase",
        "*.token",
        "*.secret",
        "config.ADMIN_TOKEN",
        "config.KILLBILL_WEBHOOK_SECRET",
      ],
      censor: "[secret]",
    },
  });
}

export type Logger = ReturnType<typeof createLogger>;
