// Certificates from a real ACME server (Pebble) on the real Traefik, Swarm runtime.
import { acmeSuite } from "./acme";

acmeSuite("swarm", "e2en");
