// Idle tenants sleep and wake on the first request: container runtime (one Docker host).
import { ODOO_STAND_IN } from "../stand-ins";
import { sleepWakeSuite } from "./sleep-wake";

describe(`sleep and wake on the real engine: container runtime ${ODOO_STAND_IN}`, () =>
  sleepWakeSuite("container", "e2eo"));
