import { dockerEngineUnreachable, swarmVersionConflict, unreachableEngine } from "./docker-engine";
import * as pulumi from "@pulumi/pulumi";
import { toProgressEvent } from "./progress";
import { engineErrors, redactor, tail, urlPasswords } from "./redact";
import { holderAlive, lockHolders, locksAreStale, processStartedAt } from "./stale-lock";
import { maskSecrets } from "./results-from-events";

describe("redactor", () => {
  const redact = redactor(["hunter2-secret", "abc", undefined, "p@ss/word+"]);
  it.each([
    ["password hunter2-secret here", "password [secret] here"],
    [`base64 ${Buffer.from("hunter2-secret").toString("base64")}`, "base64 [secret]"],
    ["short abc is left alone", "short abc is left alone"],
    ["odd p@ss/word+ chars", "odd [secret] chars"],
  ])("%s", (input, output) => expect(redact(input)).toBe(output));

  it("finds a backend URL's password, as written and decoded", () => {
    expect(urlPasswords("postgres://saas:p%40ss-word@db:5432/state?sslmode=disable")).toEqual([
      "p%40ss-word",
      "p@ss-word",
    ]);
    expect(urlPasswords("file:///var/lib/state")).toEqual([]);
    expect(urlPasswords("not a url")).toEqual([]);
  });
  it("tail keeps the last lines", () => expect(tail("a\nb\nc\nd\n", 2)).toBe("c\nd"));
});

describe("engineErrors", () => {
  it.each([
    [
      "the provider's message, not the generic closing line",
      `Diagnostics:
  pulumi-nodejs:dynamic:Resource (db):
    error: template database "nope" does not exist

  pulumi:pulumi:Stack (t-db):
    error: update failed`,
      'error: template database "nope" does not exist',
    ],
    [
      "continuation lines belong to their error; repeats are said once",
      `  docker:index/container:Container (odoo):
    error: Unable to create container: Error response from daemon:
      Conflict. The container name is already in use
    error: Unable to create container: Error response from daemon:
      Conflict. The container name is already in use
    error: update failed`,
      "error: Unable to create container: Error response from daemon: Conflict. The container name is already in use",
    ],
    ["nothing but the generic line", "    error: destroy failed", ""],
  ])("%s", (_label, text, expected) => expect(engineErrors(text)).toBe(expected));
});

describe("stale locks", () => {
  it("a pid reused by a process started after the lock was taken is not its holder", () => {
    const self = processStartedAt(process.pid)!;
    expect(Math.abs(self - (Date.now() - process.uptime() * 1000))).toBeLessThan(2000);
    expect(holderAlive(process.pid, new Date(self + 60_000).toISOString())).toBe(true);
    expect(holderAlive(process.pid, new Date(self - 60_000).toISOString())).toBe(false);
    expect(holderAlive(999_999_999, new Date().toISOString())).toBe(false);
  });
  const message =
    "error: the stack is currently locked by 2 lock(s).\n" +
    "  file:///s/.pulumi/locks/organization/p/s/1.json: created by root@vm (pid 4242) at 2026-11-23T00:55:07Z\n" +
    "  file:///s/.pulumi/locks/organization/p/s/2.json: created by ci@other (pid 17) at 2026-11-23T00:56:00Z\n" +
    "  file:///s/.pulumi/locks/organization/p/s/1.json: created by root@vm (pid 4242) at 2026-11-23T00:55:07Z\n";
  it("parses each holder once", () => {
    expect(lockHolders(message)).toEqual([
      { user: "root", host: "vm", pid: 4242, at: "2026-11-23T00:55:07Z" },
      { user: "ci", host: "other", pid: 17, at: "2026-11-23T00:56:00Z" },
    ]);
  });
  it.each([
    ["all holders dead on this host", [{ host: "vm", pid: 1 }], () => false, true],
    ["a live holder", [{ host: "vm", pid: 1 }], () => true, false],
    [
      "a holder on another host",
      [
        { host: "vm", pid: 1 },
        { host: "other", pid: 2 },
      ],
      () => false,
      false,
    ],
    ["no holder parsed", [], () => false, false],
  ])("%s -> stale: %s", (_name, holders, alive, stale) => {
    const full = holders.map((h) => ({ ...h, user: "root", at: "t" }));
    expect(locksAreStale(full, "vm", alive)).toBe(stale);
  });
});

describe("maskSecrets", () => {
  it("replaces secret envelopes at any depth", () => {
    const secret = {
      [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
      ciphertext: "x",
    };
    expect(maskSecrets({ a: 1, b: secret, c: [secret, { d: secret, e: "plain" }] })).toEqual({
      a: 1,
      b: "[secret]",
      c: ["[secret]", { d: "[secret]", e: "plain" }],
    });
  });
});

describe("toProgressEvent", () => {
  const id = (s: string) => s;
  const meta = {
    op: "update",
    urn: "urn:pulumi:s::p::docker:index/container:Container::acme-odoo",
    type: "docker:index/container:Container",
    provider: "",
  };
  it.each([
    [
      { resourcePreEvent: { metadata: meta } },
      { kind: "resource-started", name: "acme-odoo", op: "update" },
    ],
    [{ resourcePreEvent: { metadata: meta, planning: true } }, undefined],
    [{ resOutputsEvent: { metadata: meta } }, { kind: "resource-finished", failed: false }],
    [
      { resOpFailedEvent: { metadata: meta, status: 1, steps: 1 } },
      { kind: "resource-finished", failed: true },
    ],
    [
      { diagnosticEvent: { message: "\u001b[31mboom\u001b[0m\n", color: "", severity: "error" } },
      { kind: "diagnostic", severity: "error", message: "boom" },
    ],
    [{ diagnosticEvent: { message: "rpc detail", color: "", severity: "debug" } }, undefined],
    [
      { diagnosticEvent: { message: "x", color: "", severity: "info", ephemeral: true } },
      undefined,
    ],
  ])("%#", (event, expected) => {
    const mapped = toProgressEvent({ sequence: 1, timestamp: 0, ...event } as never, id);
    if (expected === undefined) expect(mapped).toBeUndefined();
    else expect(mapped).toMatchObject(expected);
  });
});

describe("dockerEngineUnreachable", () => {
  const socket = "unix:///var/run/docker.sock";
  it.each([
    [
      "the provider's client",
      "Error: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
      socket,
      true,
    ],
    [
      "a dynamic provider, socket gone",
      "error: connect ENOENT /tmp/engine.sock",
      "unix:///tmp/engine.sock",
      true,
    ],
    [
      "a dynamic provider, refused",
      "error: connect ECONNREFUSED /var/run/docker.sock",
      socket,
      true,
    ],
    [
      "a remote engine",
      "dial tcp 10.0.0.5:2376: connect: connection refused",
      "tcp://10.0.0.5:2376",
      true,
    ],
    [
      "a remote engine's host gone",
      "error during connect: dial tcp 172.27.0.3:2375: connect: no route to host",
      "tcp://172.27.0.3:2375",
      true,
    ],
    [
      "a dynamic provider, the remote host gone",
      "error: connect EHOSTUNREACH 172.27.0.3:2375",
      "tcp://172.27.0.3:2375",
      true,
    ],
    [
      "the provider's client, the engine gone mid-request",
      'Unable to create volume: error during connect: Post "http://%2Ftmp%2Fengine.sock/v1.41/volumes/create": write unix @->/tmp/engine.sock: use of closed network connection',
      "unix:///tmp/engine.sock",
      true,
    ],
    [
      "another socket's error",
      "error: connect ENOENT /run/postgresql/.s.PGSQL.5432",
      socket,
      false,
    ],
    [
      "a Docker API error",
      "Error response from daemon: Conflict. The container name is already in use",
      socket,
      false,
    ],
  ])("%s", (_name, text, endpoint, expected) =>
    expect(dockerEngineUnreachable(text, endpoint)).toBe(expected),
  );
});

describe("unreachableEngine", () => {
  const host = "unix:///var/run/docker.sock";
  const worker = "tcp://10.0.0.7:2375";
  it.each([
    [
      "the worker's engine named",
      "dial tcp 10.0.0.7:2375: connect: connection refused",
      [],
      worker,
    ],
    ["a drop, the worker silent", "error: socket hang up", [worker], worker],
    ["a drop, every engine answering", "error: socket hang up", [], undefined],
    [
      "a create whose request died with the engine",
      "error: expected non-nil error with nil state during Create of urn:…::engine-gone-network",
      [worker],
      worker,
    ],
    [
      "another failure: nobody asked",
      "Error response from daemon: no such image",
      [worker],
      undefined,
    ],
  ])("%s", async (_name, text, silent, expected) => {
    const asked: string[] = [];
    const answers = async (e: string) => (asked.push(e), !silent.includes(e));
    expect(await unreachableEngine(text, [host, worker], answers)).toBe(expected);
    if (!/hang up|nil state/.test(text)) expect(asked).toEqual([]);
  });
});

describe("swarmVersionConflict", () => {
  it.each([
    [
      "the provider's update refused",
      "updating urn:…::sw-certs-gateway: 1 error occurred: * Error response from daemon: rpc error: code = Unknown desc = update out of sequence",
      true,
    ],
    ["another refusal", "Error response from daemon: rpc error: code = InvalidArgument", false],
  ])("%s", (_name, text, expected) => expect(swarmVersionConflict(text)).toBe(expected));
});
