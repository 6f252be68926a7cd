import { describe, expect, it } from "vitest";
import { defaultTrustedHosts, isTrustedHost, parseTrustedHosts, TrustedHostError } from "./trusted-hosts.js";

describe("trusted hosts", () => {
  it("trusts the loopback names and the listen host on any port by default", () => {
    const hosts = defaultTrustedHosts("assets.internal");
    for (const header of ["localhost", "localhost:8080", "127.0.0.1:1", "[::1]:8080", "assets.internal:8080", "LOCALHOST."]) {
      expect(isTrustedHost(hosts, header)).toBe(true);
    }
    for (const header of ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "", "localhost:0", "localhost:x", "a b", undefined]) {
      expect(isTrustedHost(hosts, header)).toBe(false);
    }
  });

  it("does not list a wildcard listen address, and brackets an IPv6 one", () => {
    expect(defaultTrustedHosts("0.0.0.0").map((h) => h.name)).toEqual(["localhost", "127.0.0.1", "[::1]"]);
    expect(defaultTrustedHosts("::").map((h) => h.name)).toEqual(["localhost", "127.0.0.1", "[::1]"]);
    expect(isTrustedHost(defaultTrustedHosts("fd00::5"), "[fd00::5]:8080")).toBe(true);
  });

  it("matches a port when the entry names one, and subdomains for a leading dot", () => {
    const hosts = parseTrustedHosts("assets.example.com:8443, .media.example.org");
    expect(isTrustedHost(hosts, "assets.example.com:8443")).toBe(true);
    expect(isTrustedHost(hosts, "assets.example.com")).toBe(false);
    expect(isTrustedHost(hosts, "assets.example.com:443")).toBe(false);
    expect(isTrustedHost(hosts, "media.example.org")).toBe(true);
    expect(isTrustedHost(hosts, "eu.media.example.org:80")).toBe(true);
    expect(isTrustedHost(hosts, "evilmedia.example.org")).toBe(false);
  });

  it("refuses entries that are no host", () => {
    expect(() => parseTrustedHosts("https://assets.example.com")).toThrow(TrustedHostError);
    expect(() => parseTrustedHosts("assets.example.com:99999")).toThrow(/port must be 1-65535/);
  });
});
