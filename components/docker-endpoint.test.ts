import { engineOptions } from "./docker-endpoint";

describe("engineOptions", () => {
  it.each([
    ["unix:///var/run/docker.sock", { socketPath: "/var/run/docker.sock", host: "" }],
    ["tcp://10.0.0.5:2375", { host: "10.0.0.5", port: 2375, protocol: "http" }],
    ["tcp://worker-1", { host: "worker-1", port: 2375, protocol: "http" }],
  ])("%s", (endpoint, options) => expect(engineOptions(endpoint)).toEqual(options));

  it.each([
    ["worker-1:2375", /is not a URL|only unix/],
    ["ssh://admin@worker-1", /only unix:\/\/\/… and tcp:\/\/host:port/],
    ["http://worker-1:2375", /only unix/],
  ])("refuses %s", (endpoint, message) => expect(() => engineOptions(endpoint)).toThrow(message));
});
