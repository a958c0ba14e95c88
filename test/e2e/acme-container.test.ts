// Certificates from a real ACME server (Pebble) on the real Traefik, container runtime.
import { acmeSuite } from "./acme";

acmeSuite("container", "e2em");
