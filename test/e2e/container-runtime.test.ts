// The tenant lifecycle on the real engine, container runtime (one Docker host).
import { tenantLifecycleSuite } from "./tenant-lifecycle";

describe("tenant lifecycle on the real engine: container runtime", () =>
  tenantLifecycleSuite("container"));
