// The tenant lifecycle on the real engine, container runtime (one Docker host).
import { ODOO_STAND_IN } from "../stand-ins";
import { tenantLifecycleSuite } from "./tenant-lifecycle";

describe(`tenant lifecycle on the real engine: container runtime ${ODOO_STAND_IN}`, () =>
  tenantLifecycleSuite("container"));
