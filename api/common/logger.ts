import pino from "pino";

/** Structured logs; anything that looks like a credential is removed before it is written. */
export function createLogger(level: string, destination?: pino.DestinationStream) {
  return pino(
    {
      level,
      redact: {
        paths: [
          "req.headers.authorization",
          "*.password",
          "*.passphrase",
          "*.token",
          "*.secret",
          "config.ADMIN_TOKEN",
          "config.MONITORING_TOKEN",
          "config.KILLBILL_WEBHOOK_SECRET",
          "config.KILLBILL_WEBHOOK_SECRET_PREVIOUS",
        ],
        censor: "[secret]",
      },
    },
    destination,
  );
}

export type Logger = ReturnType<typeof createLogger>;
