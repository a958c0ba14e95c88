// Idle tenants sleep and wake on the first request: Docker Swarm (Odoo a service scaled to 0 and back).
import { ODOO_STAND_IN } from "../stand-ins";
import { sleepWakeSuite } from "./sleep-wake";

describe(`sleep and wake on the real engine: Docker Swarm ${ODOO_STAND_IN}`, () =>
  sleepWakeSuite("swarm", "e2ep"));
