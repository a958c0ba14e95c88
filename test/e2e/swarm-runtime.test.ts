// The tenant lifecycle on the real engine, Swarm runtime (a one-node Swarm on loopback).
import { tenantLifecycleSuite } from "./tenant-lifecycle";

describe("tenant lifecycle on the real engine: Swarm runtime", () => tenantLifecycleSuite("swarm"));
