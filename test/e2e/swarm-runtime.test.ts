// The tenant lifecycle on the real engine, Swarm runtime (a one-node Swarm on loopback).
import { ODOO_STAND_IN } from "../stand-ins";
import { tenantLifecycleSuite } from "./tenant-lifecycle";

describe(`tenant lifecycle on the real engine: Swarm runtime ${ODOO_STAND_IN}`, () =>
  tenantLifecycleSuite("swarm"));
