// A real ACME server for tests: Pebble, Let's Encrypt's test CA (scripts/ensure-pebble.sh puts it
// on PATH). It listens where Traefik's containers reach it (the engine's bridge gateway), with a
// certificate made here for that address; it validates challenges on this machine's loopback
// ports (Traefik's published ones) and resolves names through a test DNS server. No sleeps, no
// rejected nonces: issuance as fast as Pebble goes.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import { freePort } from "./free-port";
import * as os from "node:os";
import * as path from "node:path";

export class Pebble {
  private child?: ChildProcess;
  private dir = "";
  private management = 0;
  private output = "";
  /** The ACME directory URL. */
  directory = "";
  /** The PEM of Pebble's own HTTPS certificate (self-signed): what Traefik must trust to talk to it. */
  serverCertificate = "";

  async start(o: {
    /** The address Pebble's ACME API listens on (one Traefik's containers reach). */
    host: string;
    /** Its DNS server (`host:port`). */
    dnsServer: string;
    /** Where it validates challenges: Traefik's published HTTP and HTTPS ports on loopback. */
    httpPort: number;
    tlsPort: number;
    /** The `shortlived` profile's validity, in seconds. */
    shortlivedSeconds: number;
  }): Promise<this> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-pebble-"));
    const cert = path.join(this.dir, "cert.pem");
    const key = path.join(this.dir, "key.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "2",
        "-subj",
        "/CN=pebble",
        "-addext",
        `subjectAltName=IP:${o.host},DNS:localhost,IP:127.0.0.1`,
      ],
      { stdio: "ignore" },
    );
    this.serverCertificate = fs.readFileSync(cert, "utf8");
    const port = await freePort(o.host);
    this.management = await freePort("127.0.0.1");
    const config = path.join(this.dir, "pebble.json");
    fs.writeFileSync(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `${o.host}:${port}`,
          managementListenAddress: `127.0.0.1:${this.management}`,
          certificate: cert,
          privateKey: key,
          httpPort: o.httpPort,
          tlsPort: o.tlsPort,
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
          retryAfter: { authz: 1, order: 1 },
          keyAlgorithm: "ecdsa",
          profiles: {
            default: { description: "90 days, as Let's Encrypt's", validityPeriod: 7776000 },
            shortlived: { description: "for renewal tests", validityPeriod: o.shortlivedSeconds },
          },
        },
      }),
    );
    this.directory = `https://${o.host}:${port}/dir`;
    this.child = spawn("pebble", ["-config", config, "-dnsserver", o.dnsServer], {
      env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d) => (this.output += d));
    this.child.stderr!.on("data", (d) => (this.output += d));
    const failed = new Promise<never>((_, reject) =>
      this.child!.once("error", (e) =>
        reject(new Error(`pebble: ${e.message} (scripts/ensure-pebble.sh puts it on PATH)`)),
      ),
    );
    const deadline = Date.now() + 15_000;
    while (
      !(await Promise.race([
        this.root().then(
          () => true,
          () => false,
        ),
        failed,
      ]))
    ) {
      if (Date.now() > deadline) throw new Error(`pebble did not start: ${this.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return this;
  }

  /** The root every certificate Pebble issues chains to (a new one per start). */
  root(): Promise<string> {
    return this.get("/roots/0");
  }

  /** What Pebble printed (its orders, validations and issuances). */
  log(): string {
    return this.output;
  }

  /** Certificates issued so far (Pebble logs each). */
  issuedCount(): number {
    return (this.output.match(/Issued certificate serial/g) ?? []).length;
  }

  private get(urlPath: string): Promise<string> {
    return new Promise((resolve, reject) =>
      https
        .get(
          { host: "127.0.0.1", port: this.management, path: urlPath, rejectUnauthorized: false },
          (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () =>
              res.statusCode === 200
                ? resolve(body)
                : reject(new Error(`${urlPath}: ${res.statusCode}`)),
            );
          },
        )
        .on("error", reject),
    );
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((r) => this.child!.once("exit", r));
      this.child.kill("SIGTERM");
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
